// `start ... -- ARGS`: raw arguments for `codex exec`, each one argv item (never a shell), placed
// before the `-` prompt on the first turn and before `resume` on every later one, where codex
// parses them as `exec` options and applies them to the resumed session (docs/decisions.md).
// Only options pass: codex-tasks owns the prompt (stdin), the subcommand, the event stream and
// the result file, and the options it has flags for are given through those flags.

/** Options of `codex exec` (0.169) that take a value: the next item, or `--name=value`. */
const WITH_VALUE: ReadonlySet<string> = new Set([
  "--local-provider",
  "--thread-source",
  "--cyber-access-program",
  "--color",
])

/** Options refused, and why (the start fails with this, exit 2). */
const REFUSED: Readonly<Record<string, string>> = {
  "--json": "codex-tasks always reads codex's events with --json",
  "--output-last-message": "codex-tasks reads the final message from its own -o file",
  "--cd": "use --working-dir",
  "--ephemeral": "an ephemeral thread cannot be resumed, and every task must be",
  "--worktree":
    "codex's worktree moves the session away from the task; use codex-tasks' --worktree",
  "--help": "codex would print its help instead of running the task",
  "--version": "codex would print its version instead of running the task",
  "--last": "codex-tasks names the session it resumes",
  "--all": "codex-tasks names the session it resumes",
  "--image": "use --image (attached to the first prompt only)",
  "--model": "use --model",
  "--profile": "use --profile",
  "--sandbox": "use --sandbox",
  "--config": "use --config",
  "--enable": "use --enable",
  "--disable": "use --disable",
  "--add-dir": "use --add-dir",
  "--output-schema": "use --output-schema",
  "--skip-git-repo-check": "use --skip-git-repo-check",
  "--dangerously-bypass-approvals-and-sandbox": "use --dangerously-bypass-approvals-and-sandbox",
}

/**
 * codex 0.169's hidden aliases (clap `alias`: accepted, never listed by `--help`; each tried on
 * the binary), judged and recorded as the flag they stand for.
 */
export const CODEX_ALIASES: Readonly<Record<string, string>> = {
  "--yolo": "--dangerously-bypass-approvals-and-sandbox",
  "--experimental-json": "--json",
  "--not-so-yolo": "--approve-for-me",
}

/** `arg` with an alias's name replaced by the canonical one (`--yolo` → the bypass flag). */
const canonical = (arg: string): string => {
  const name = arg.split("=", 1)[0] ?? arg
  const to = CODEX_ALIASES[name]
  return to === undefined ? arg : `${to}${arg.slice(name.length)}`
}

/** `args` as codex-tasks records them: hidden aliases under their canonical names. */
export const canonicalExtraArgs = (args: ReadonlyArray<string>): Array<string> =>
  args.map((arg) => (arg.startsWith("--") ? canonical(arg) : arg))

/**
 * Why `args` cannot be passed to codex as they are (one line per problem), or nothing. Accepted:
 * long options (`--name`, `--name=value`, or `--name value` for the options of `WITH_VALUE`)
 * other than the refused ones; an option codex does not know fails the first turn, as codex's
 * own usage error.
 */
export const extraArgsProblems = (args: ReadonlyArray<string>): Array<string> => {
  const problems: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ""
    const refuse = (why: string) => problems.push(`codex argument ${JSON.stringify(arg)}: ${why}.`)
    if (arg === "" || arg.includes("\0")) refuse("empty or not text")
    else if (arg === "-" || arg === "--" || !arg.startsWith("-")) {
      refuse(
        "only options can be passed (codex-tasks sends the prompt on stdin and runs `resume` itself); give an option's value as --name=value",
      )
    } else if (!arg.startsWith("--")) refuse("give options in their long form (--name)")
    else {
      const name = canonical(arg).split("=", 1)[0] ?? arg
      const why = REFUSED[name]
      const alias = name === arg.split("=", 1)[0] ? "" : `an alias of ${name}: `
      if (why !== undefined) refuse(`${alias}${why}`)
      else if (WITH_VALUE.has(name) && !arg.includes("=")) {
        const value = args[i + 1]
        if (value === undefined || value.startsWith("-")) refuse("needs a value")
        else i++
      }
    }
  }
  return problems
}
