/**
 * Which part of the program an argv (`process.argv.slice(2)`) needs, decided before anything
 * else loads: the worker, one subcommand, or the whole command tree (help, completions, version,
 * the wizard, an unknown command or anything at the root this scan does not know).
 */

/** The subcommands, in the order `--help` lists them. */
export const COMMANDS = [
  "start",
  "send",
  "status",
  "log",
  "stop",
  "approve",
  "decline",
  "ls",
  "diff",
  "apply",
  "archive",
  "mcp",
  "serve",
  "doctor",
  "runner",
] as const
/** A subcommand's name. */
export type CommandName = (typeof COMMANDS)[number]

/** What `argv` runs: `"worker"`, one subcommand, or `"tree"` (the full command tree decides). */
export type Route = "worker" | CommandName | "tree"

// The root's own options that take a value (the global options); @effect/cli's built-ins
// (--help, --version, --completions, --wizard, --log-level) all go to the full tree.
/** The root's own options (the global options); each takes a value. */
export const GLOBAL_OPTIONS = ["--store-root", "--codex-bin", "--max-running", "--cluster"] as const
const GLOBALS_WITH_VALUE = new Set<string>(GLOBAL_OPTIONS)
const FULL_TREE = new Set(["--help", "-h", "--version", "--completions", "--wizard"])

/** The route of `args` (`process.argv.slice(2)`). */
export const routeOf = (args: ReadonlyArray<string>): Route => {
  if (args[0] === "__worker") return "worker"
  if (args.some((a) => FULL_TREE.has(a) || a.startsWith("--completions="))) return "tree"
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? ""
    if (GLOBALS_WITH_VALUE.has(a)) i++
    else if ([...GLOBALS_WITH_VALUE].some((g) => a.startsWith(`${g}=`))) continue
    else if (a.startsWith("-")) return "tree"
    else return (COMMANDS as ReadonlyArray<string>).includes(a) ? (a as CommandName) : "tree"
  }
  return "tree"
}
