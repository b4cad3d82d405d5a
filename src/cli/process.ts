import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { ExitCode, ExitWith } from "../domain/exit.js"
import { Printer } from "./Printer.js"

// Through the context's Printer when there is one (in-process runs), else this process's stderr.
const say = (text: string) =>
  Effect.flatMap(Effect.serviceOption(Printer), (printer) =>
    Option.isSome(printer)
      ? printer.value.note(`codex-tasks: ${text}`)
      : Effect.sync(() => void process.stderr.write(`codex-tasks: ${text}\n`)),
  )

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

// Set by a command whose normal end is a signal (`serve`): SIGINT/SIGTERM then exit 0.
let signalIsNormalEnd = false

/** Makes SIGINT/SIGTERM this process's normal end (exit 0), for a command that serves until stopped. */
export const signalEndsNormally = Effect.sync(() => {
  signalIsNormalEnd = true
})

/** The exit code of a command a signal interrupted: 130 for SIGINT (Ctrl-C), 143 for SIGTERM. */
export const signalExitCode = (signal: NodeJS.Signals | undefined): number =>
  signal === "SIGTERM" ? ExitCode.Terminated : ExitCode.Interrupted

/**
 * The code the process ends with once `program` ended as `exit`, after `signal` (if any) arrived;
 * 0 leaves it to `process.exitCode` (which the program set). An interrupted command never ends 0,
 * so `status --wait && deploy` does not deploy after a Ctrl-C.
 */
export const processExitCode = (
  exit: Exit.Exit<unknown, unknown>,
  signal: NodeJS.Signals | undefined,
): number => {
  if (Exit.isSuccess(exit)) return signal === undefined ? 0 : Number(process.exitCode ?? 0)
  if (!Cause.isInterruptedOnly(exit.cause)) return ExitCode.Error
  return signalIsNormalEnd && signal !== undefined ? ExitCode.Ok : signalExitCode(signal)
}

/**
 * Runs `program` (which resolves to the exit code) as this process, on the file system and path
 * services only (NodeContext would load HTTP, workers, …) plus `extra`: SIGINT and SIGTERM interrupt
 * it (exit 130 and 143), a reader that went away (`| head`) ends it quietly as for any Unix tool.
 */
export const runAsProcess = <X>(
  program: Effect.Effect<number, never, FileSystem | Path | X>,
  extra: Layer.Layer<X>,
): void => {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0)
  })
  // runMain interrupts the program on the first SIGINT/SIGTERM; this notes which one it was (and,
  // like runMain's own listener, is gone after it, so a second Ctrl-C kills as usual).
  let signal: NodeJS.Signals | undefined
  const note = (received: NodeJS.Signals) => {
    signal ??= received
    process.removeListener("SIGINT", note)
    process.removeListener("SIGTERM", note)
  }
  process.on("SIGINT", note)
  process.on("SIGTERM", note)
  program.pipe(
    Effect.flatMap((code) =>
      Effect.sync(() => {
        process.exitCode = code
      }),
    ),
    Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, extra)),
    NodeRuntime.runMain({
      disableErrorReporting: true,
      teardown: (exit, onExit) => onExit(processExitCode(exit, signal)),
    }),
  )
}
