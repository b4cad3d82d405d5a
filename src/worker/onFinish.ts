import { spawn } from "node:child_process"
import { Duration, Effect } from "effect"

/** How long an `--on-finish` command may run before its process group is killed. */
export const ON_FINISH_TIMEOUT = Duration.seconds(60)
const OUTPUT_TAIL = 4_000

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

/**
 * Runs `sh -c command` in `cwd` with `env`, in its own process group (killed with SIGKILL after
 * `timeout`). The command is the user's text as given; task values are only in the environment.
 */
export const runCommand = (
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeout: Duration.DurationInput = ON_FINISH_TIMEOUT,
): Effect.Effect<CommandResult> =>
  Effect.gen(function* () {
    let output = ""
    const child = spawn("sh", ["-c", command], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    })
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL)
    }
    child.stdout?.on("data", keep)
    child.stderr?.on("data", keep)
    const ended = Effect.async<Omit<CommandResult, "timedOut" | "output">>((resume) => {
      child.once("error", (e) =>
        resume(Effect.succeed({ exitCode: null, signal: null, spawnError: e.message })),
      )
      child.once("close", (code, signal) =>
        resume(Effect.succeed({ exitCode: code, signal: signal ?? null })),
      )
    })
    const killGroup = Effect.sync(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
      } catch {
        // already gone
      }
    })
    const result = yield* ended.pipe(
      Effect.map((r) => ({ ...r, timedOut: false })),
      Effect.timeoutTo({
        duration: timeout,
        onSuccess: Effect.succeed,
        onTimeout: () =>
          Effect.zipRight(
            killGroup,
            Effect.map(ended, (r) => ({ ...r, timedOut: true })),
          ),
      }),
      Effect.flatten,
      // The group goes with the command even when it exited and left children behind.
      Effect.ensuring(killGroup),
    )
    return { ...result, output }
  })
