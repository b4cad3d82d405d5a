import { spawn } from "node:child_process"
import { Data, Effect } from "effect"

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

/** Runs `git args` (argv only, never a shell) and returns its exit code and output. */
export const gitRaw = (args: ReadonlyArray<string>, options: GitOptions) =>
  Effect.async<GitResult, GitFailed>((resume) => {
    const child = spawn("git", args, {
      cwd: options.cwd,
      // Paths we pass are file names, never pathspec magic (`:(glob)`, `*`).
      env: {
        ...process.env,
        LC_ALL: "C",
        GIT_TERMINAL_PROMPT: "0",
        GIT_LITERAL_PATHSPECS: "1",
        ...options.env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (c: Buffer) => out.push(c))
    child.stderr.on("data", (c: Buffer) => err.push(c))
    child.stdin.on("error", () => {})
    child.stdin.end(options.input ?? "")
    child.once("error", (e) =>
      resume(Effect.fail(new GitFailed({ message: `cannot run git: ${e.message}` }))),
    )
    child.once("close", (code) =>
      resume(
        Effect.succeed({
          code: code ?? 1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      ),
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

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
