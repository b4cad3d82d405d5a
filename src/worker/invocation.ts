import { Deferred, Effect, Fiber, Stream } from "effect"
import type { ThreadEvent } from "../domain/events.js"
import { stderrLine, workerNote } from "../domain/logEntries.js"
import { CodexExec, type ExecOutput, type ExecRequest, type ExecResult } from "../exec/CodexExec.js"
import { WorkerControl } from "./WorkerControl.js"

/** Where an invocation's output goes, and who reacts to its events. */
export interface InvocationSink<E> {
  /** Persists one log chunk (a raw stdout line with its `\n`, or a synthetic entry). */
  readonly log: (chunk: Uint8Array | string) => Effect.Effect<void, E>
  /** Called for each decoded event after its line was logged. */
  readonly onEvent: (event: ThreadEvent) => Effect.Effect<void, E>
}

const NEWLINE = new Uint8Array([0x0a])

const persist = <E>(sink: InvocationSink<E>, output: ExecOutput): Effect.Effect<void, E> => {
  if (output._tag === "Stderr") return sink.log(stderrLine(output.text))
  // Byte for byte, before anything interprets it.
  const withNewline = new Uint8Array(output.bytes.length + 1)
  withNewline.set(output.bytes)
  withNewline.set(NEWLINE, output.bytes.length)
  return Effect.zipRight(
    sink.log(withNewline),
    output.line._tag === "Event" ? sink.onEvent(output.line.event) : Effect.void,
  )
}

/**
 * Runs one `codex exec` invocation, writing every line to the sink as it arrives. A stop request
 * ("now") interrupts codex, and the rest of its output is still drained into the log.
 */
export const runInvocation = <E>(request: ExecRequest, sink: InvocationSink<E>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const exec = yield* CodexExec
      const control = yield* WorkerControl
      const run = yield* exec.run(request)
      const consumer = yield* Effect.fork(Stream.runForEach(run.output, (o) => persist(sink, o)))
      const stopped = yield* Effect.raceFirst(
        Fiber.await(consumer).pipe(Effect.as(false)),
        Deferred.await(control.stopNow).pipe(Effect.as(true)),
      )
      if (stopped) {
        yield* sink.log(workerNote("stop requested: interrupting codex"))
        yield* run.interrupt
      }
      yield* Fiber.join(consumer)
      const result: ExecResult = yield* run.result
      return result
    }),
  )
