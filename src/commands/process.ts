import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { ExitCode, ExitWith } from "../domain/exit.js"

const say = (text: string) => Effect.sync(() => process.stderr.write(`codex-tasks: ${text}\n`))

const hasMessage = (e: unknown): e is { readonly _tag: string; readonly message: string } =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"

/** Maps how a command ended to its exit code, telling the user why on stderr (no stack traces). */
export const exitCodeOf = (cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const e = failure.value
    if (e instanceof ExitWith) {
      return e.message === undefined || e.message === ""
        ? Effect.succeed(e.code)
        : Effect.as(say(e.message), e.code)
    }
    if (hasMessage(e) && e._tag === "UsageError") return Effect.as(say(e.message), ExitCode.Usage)
    if (hasMessage(e)) return Effect.as(say(e.message), ExitCode.Error)
    return Effect.as(say(String(e)), ExitCode.Error)
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.succeed(ExitCode.Interrupted)
  const defect = Cause.squash(cause)
  const text = defect instanceof Error ? defect.message : String(defect)
  return Effect.as(
    Effect.zipRight(
      say(`internal error: ${text}`),
      process.env.CODEX_TASKS_DEBUG
        ? Effect.sync(() => process.stderr.write(`${Cause.pretty(cause)}\n`))
        : Effect.void,
    ),
    ExitCode.Error,
  )
}

/**
 * Runs `program` (which resolves to the exit code) as this process, on the file system and path
 * services only (NodeContext would load HTTP, workers, …) plus `extra`: SIGINT interrupts it, a reader
 * that went away (`| head`) ends it quietly as for any Unix tool.
 */
export const runAsProcess = <X>(
  program: Effect.Effect<number, never, FileSystem | Path | X>,
  extra: Layer.Layer<X>,
): void => {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0)
  })
  program.pipe(
    Effect.flatMap((code) =>
      Effect.sync(() => {
        process.exitCode = code
      }),
    ),
    Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, extra)),
    NodeRuntime.runMain({
      disableErrorReporting: true,
      // SIGINT/SIGTERM interrupt the program: exit 130 as documented (runMain's default says 0).
      teardown: (exit, onExit) =>
        onExit(
          Exit.isSuccess(exit)
            ? Number(process.exitCode ?? 0)
            : Cause.isInterruptedOnly(exit.cause)
              ? ExitCode.Interrupted
              : ExitCode.Error,
        ),
    }),
  )
}
