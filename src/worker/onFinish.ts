import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect } from "effect"
import { runToEnd } from "../processes/child.js"

/** How long an `--on-finish` command may run before its process group is killed. */
export const ON_FINISH_TIMEOUT = Duration.seconds(60)
const OUTPUT_TAIL = 4_000
// Enough bytes for OUTPUT_TAIL characters of UTF-8 (at most 4 bytes each).
const TAIL_BYTES = OUTPUT_TAIL * 4

/** How an `--on-finish` command ended. */
export interface CommandResult {
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  /** The last few thousand characters of its stdout and stderr, interleaved. */
  readonly output: string
  /** Set when it could not be started at all. */
  readonly spawnError?: string
}

/** The last `OUTPUT_TAIL` characters of the file open as `fd` (read from its end only). */
const tailOf = (fd: number): string => {
  const size = fstatSync(fd).size
  const length = Math.min(size, TAIL_BYTES)
  const buffer = Buffer.alloc(length)
  readSync(fd, buffer, 0, length, size - length)
  return buffer.toString("utf8").slice(-OUTPUT_TAIL)
}

/**
 * Runs `sh -c command` in `cwd` with `env`, in its own process group (killed with SIGKILL after
 * `timeout`). The command is the user's text as given; task values are only in the environment.
 * It ends when `sh` exits: its output goes to a private temporary file (not a pipe), so a job it
 * put in the background (`cmd &`) holding stdout keeps nobody waiting; such a job runs on.
 */
export const runCommand = (
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeout: Duration.DurationInput = ON_FINISH_TIMEOUT,
): Effect.Effect<CommandResult> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "codex-tasks-on-finish-"))
      const fd = openSync(join(dir, "output"), "w+", 0o600)
      return { dir, fd }
    }),
    ({ fd }) =>
      runToEnd("sh", ["-c", command], {
        cwd,
        env,
        outputFd: fd,
        timeoutMs: Duration.toMillis(Duration.decode(timeout)),
      }).pipe(
        Effect.map(
          (r): CommandResult => ({
            exitCode: r.exitCode,
            signal: r.signal,
            timedOut: r.timedOut,
            output: tailOf(fd),
          }),
        ),
        Effect.catchTag("ChildNotStarted", (e) =>
          Effect.succeed<CommandResult>({
            exitCode: null,
            signal: null,
            timedOut: false,
            output: tailOf(fd),
            spawnError: e.message,
          }),
        ),
      ),
    ({ dir, fd }) =>
      Effect.sync(() => {
        closeSync(fd)
        // A background job still writing keeps its (unlinked) file; nothing here waits for it.
        rmSync(dir, { recursive: true, force: true })
      }),
  ).pipe(
    Effect.catchAllDefect((e) =>
      Effect.succeed({
        exitCode: null,
        signal: null,
        timedOut: false,
        output: "",
        spawnError: `cannot record its output: ${e instanceof Error ? e.message : String(e)}`,
      }),
    ),
  )
