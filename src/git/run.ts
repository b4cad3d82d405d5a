import { Data, Effect } from "effect"
import { runToEnd } from "../processes/child.js"
import { faultPoint } from "../store/faults.js"

/** A git command failed, or git could not be run. */
export class GitFailed extends Data.TaggedError("GitFailed")<{ readonly message: string }> {}

/** What one git run printed and how it ended. */
export interface GitResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** How to run git: where, with which extra variables, what to feed its stdin. */
export interface GitOptions {
  readonly cwd: string
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly input?: string | undefined
  /** Lets git ask for credentials on the terminal (a clone); else it fails instead. */
  readonly prompt?: boolean | undefined
}

/** Identity for the commits this tool makes when the repository has none configured. */
export const FALLBACK_IDENTITY = [
  "-c",
  "user.name=codex-tasks",
  "-c",
  "user.email=codex-tasks@localhost",
]

/**
 * Options for the commits this tool makes for itself (archive's commit of a worktree's leftover
 * work, apply's throwaway merge commits): never signed (`commit.gpgsign` would run the user's
 * gpg, which may prompt or block) and no hooks (`--no-verify` skips only two of them).
 */
export const BOOKKEEPING = ["-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]

/** The git subcommands that write (a repository, a worktree or a checkout): fault points. */
const WRITING = new Set([
  "add",
  "apply",
  "branch",
  "checkout",
  "clone",
  "commit",
  "fetch",
  "merge",
  "read-tree",
  "reset",
  "rm",
  "update-index",
  "update-ref",
  "worktree",
  "write-tree",
])

/** The subcommand of a git argv (after `-c NAME=VALUE` and `-C DIR` pairs and other flags). */
const subcommandOf = (args: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === "-c" || arg === "-C") i++
    else if (!arg.startsWith("-")) return arg
  }
  return undefined
}

/**
 * The sweep's fault point before a writing git step (`git.<subcommand>`, docs/faults.md); an
 * injected I/O error fails the step as git's own failure would.
 */
const gitFaultPoint = (args: ReadonlyArray<string>) =>
  Effect.try({
    try: () => {
      const sub = subcommandOf(args)
      if (sub !== undefined && WRITING.has(sub)) faultPoint(`git.${sub}`)
    },
    catch: (e) => new GitFailed({ message: `cannot run git: ${(e as Error).message}` }),
  })

/** Runs `git args` (argv only, never a shell) and returns its exit code and output. */
export const gitRaw = (args: ReadonlyArray<string>, options: GitOptions) =>
  Effect.zipRight(gitFaultPoint(args), runGit(args, options))

const runGit = (args: ReadonlyArray<string>, options: GitOptions) =>
  runToEnd("git", args, {
    cwd: options.cwd,
    // Paths we pass are file names, never pathspec magic (`:(glob)`, `*`).
    env: {
      ...process.env,
      LC_ALL: "C",
      ...(options.prompt === true ? {} : { GIT_TERMINAL_PROMPT: "0" }),
      GIT_LITERAL_PATHSPECS: "1",
      ...options.env,
    },
    stdin: options.input ?? "",
    // The caller's terminal stays git's (a clone may ask for credentials); interruption
    // (Ctrl-C) kills git, which must not go on writing into a directory about to be removed.
    detachedGroup: false,
  }).pipe(
    Effect.map((r): GitResult => ({ code: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr })),
    Effect.mapError((e) => new GitFailed({ message: `cannot run git: ${e.message}` })),
  )

/** Runs git and fails with its last stderr lines unless it exits 0; returns its stdout. */
export const git = (args: ReadonlyArray<string>, options: GitOptions) =>
  Effect.flatMap(gitRaw(args, options), (r) =>
    r.code === 0
      ? Effect.succeed(r.stdout)
      : Effect.fail(
          new GitFailed({
            message: `git ${args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? ""} failed (exit ${r.code}): ${
              r.stderr.trim().split("\n").slice(-3).join(" ") ||
              r.stdout.trim().split("\n").slice(-3).join(" ")
            }`,
          }),
        ),
  )
