import { Chunk, Deferred, Effect, Fiber, Option, Queue, Stream } from "effect"
import type { ThreadEvent } from "../domain/events.js"
import { stderrLine, workerNote } from "../domain/logEntries.js"
import { CodexExec, type ExecOutput, type ExecRequest, type ExecResult } from "../exec/CodexExec.js"
import type { ExecLine } from "../exec/decode.js"
import { WorkerControl } from "./WorkerControl.js"
import { type Cut, type WatchLimits, watchTurn } from "./watchdog.js"

/** Where an invocation's output goes, and who reacts to its events. */
export interface InvocationSink<E> {
  /** Persists one log chunk (a raw stdout line with its `\n`, or a synthetic entry). */
  readonly log: (chunk: Uint8Array | string) => Effect.Effect<void, E>
  /** Called for each decoded event after its line was logged. */
  readonly onEvent: (event: ThreadEvent) => Effect.Effect<void, E>
  /** Runs while a run that can be steered goes on (it delivers `send --steer` prompts). */
  readonly steering?:
    | ((steer: (prompt: string) => Effect.Effect<boolean>) => Effect.Effect<void>)
    | undefined
}

const NEWLINE = new Uint8Array([0x0a])

/** How an output is kept in the log: a stdout line byte for byte with its `\n`, stderr as an entry. */
const logBytesOf = (output: ExecOutput): Uint8Array | string => {
  if (output._tag === "Stderr") return stderrLine(output.text)
  const withNewline = new Uint8Array(output.bytes.length + 1)
  withNewline.set(output.bytes)
  withNewline.set(NEWLINE, output.bytes.length)
  return withNewline
}

/**
 * Persists the outputs that arrived together in one append (byte for byte, before anything
 * interprets them), then hands their events to the sink in order.
 */
const persist = <E>(
  sink: InvocationSink<E>,
  outputs: Chunk.Chunk<ExecOutput>,
): Effect.Effect<void, E> => {
  if (Chunk.isEmpty(outputs)) return Effect.void
  const parts = Chunk.toReadonlyArray(outputs).map(logBytesOf)
  const data =
    parts.length === 1
      ? (parts[0] as Uint8Array | string)
      : Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)))
  return Effect.zipRight(
    sink.log(data),
    Effect.forEach(
      outputs,
      (o) =>
        o._tag === "Stdout" && o.line._tag === "Event" ? sink.onEvent(o.line.event) : Effect.void,
      { discard: true },
    ),
  )
}

const cutNote = (cut: Cut, limits: WatchLimits) =>
  cut === "stalled"
    ? `no output for ${limits.stallTimeoutMs} ms with no command running (--stall-timeout): interrupting codex`
    : `the turn ran for ${limits.turnTimeoutMs} ms (--turn-timeout): interrupting codex`

/** A finished invocation, and whether the watchdog cut it. */
export type InvocationResult = ExecResult & { readonly cut?: Cut | undefined }

/**
 * Runs one `codex exec` invocation, writing every line to the sink as it arrives. A stop request
 * ("now") interrupts codex, and the rest of its output is still drained into the log; so does
 * the watchdog (`limits`: stall and turn timeouts), and the result says which cut it.
 */
export const runInvocation = <E>(
  request: ExecRequest,
  sink: InvocationSink<E>,
  limits: WatchLimits = {},
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const exec = yield* CodexExec
      const control = yield* WorkerControl
      const run = yield* exec.run(request)
      if (run.steer !== undefined && sink.steering !== undefined) {
        yield* Effect.forkScoped(sink.steering(run.steer))
      }
      const lines = yield* Queue.unbounded<ExecLine>()
      const consumer = yield* Effect.fork(
        Stream.runForEachChunk(run.output, (outputs) =>
          Effect.zipRight(
            persist(sink, outputs),
            Queue.offerAll(
              lines,
              Chunk.filterMap(outputs, (o) =>
                o._tag === "Stdout" ? Option.some(o.line) : Option.none(),
              ),
            ),
          ),
        ),
      )
      const why = yield* Effect.raceAll([
        Fiber.await(consumer).pipe(Effect.as("ended" as const)),
        Deferred.await(control.stopNow).pipe(Effect.as("stop" as const)),
        watchTurn(Stream.fromQueue(lines), limits),
      ])
      if (why === "stop") yield* sink.log(workerNote("stop requested: interrupting codex"))
      else if (why !== "ended") yield* sink.log(workerNote(cutNote(why, limits)))
      if (why !== "ended") yield* run.interrupt
      yield* Fiber.join(consumer)
      const result: ExecResult = yield* run.result
      const cut = why === "stalled" || why === "timed_out" ? why : undefined
      return { ...result, cut } satisfies InvocationResult
    }),
  )
