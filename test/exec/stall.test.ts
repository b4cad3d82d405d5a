import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Queue, Ref, Stream, TestClock } from "effect"
import { decodeLine, type ExecLine } from "../../src/exec/decode.js"
import { reconnectStalls } from "../../src/exec/stall.js"

// The lines codex prints without a network (fixtures/codex-exec/conn-refused.jsonl) and others.
const waiting = decodeLine(
  '{"type":"error","message":"Reconnecting... waiting for network (Connection failed: error sending request)"}',
)
const reconnecting = decodeLine(
  '{"type":"error","message":"Reconnecting... 1/5 (stream disconnected before completion)"}',
)
const item = decodeLine(
  '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"back"}}',
)
const notJson = decodeLine("plain text")
const TIMEOUT = 120_000

/** Runs the detector over lines the test offers; `stalls` counts what it emitted so far. */
const detector = Effect.gen(function* () {
  const input = yield* Queue.unbounded<ExecLine | undefined>()
  const count = yield* Ref.make(0)
  const fiber = yield* Stream.fromQueue(input).pipe(
    Stream.takeWhile((l): l is ExecLine => l !== undefined),
    reconnectStalls(TIMEOUT),
    Stream.runForEach(() => Ref.update(count, (n) => n + 1)),
    Effect.fork,
  )
  // Lets the detector take what was offered before the clock moves.
  const settle = Effect.repeatN(Effect.yieldNow(), 20)
  return {
    offer: (line: ExecLine) => Effect.zipRight(Queue.offer(input, line), settle),
    at: (ms: number) =>
      Effect.gen(function* () {
        const now = yield* TestClock.currentTimeMillis
        yield* TestClock.adjust(ms - now)
        yield* settle
      }),
    stalls: Effect.zipLeft(Ref.get(count), settle),
    end: Effect.zipRight(Queue.offer(input, undefined), Fiber.join(fiber)),
  }
})

describe("reconnectStalls", () => {
  it.effect("stalls exactly the timeout after the first waiting line", () =>
    Effect.gen(function* () {
      const d = yield* detector
      yield* d.offer(waiting)
      // codex repeats the line every ~5 s: the repeats do not restart the clock.
      for (let t = 5_000; t < TIMEOUT; t += 5_000) {
        yield* d.at(t)
        yield* d.offer(waiting)
      }
      yield* d.at(TIMEOUT - 1)
      assert.strictEqual(yield* d.stalls, 0)
      yield* d.at(TIMEOUT)
      assert.strictEqual(yield* d.stalls, 1)
      yield* d.at(3 * TIMEOUT)
      assert.strictEqual(yield* d.stalls, 1, "one stall per waiting period")
      yield* d.end
    }),
  )

  it.effect("any other line resets the clock; the next waiting line starts it again", () =>
    Effect.gen(function* () {
      const d = yield* detector
      yield* d.offer(waiting)
      yield* d.at(90_000)
      yield* d.offer(item)
      yield* d.at(100_000)
      yield* d.offer(waiting)
      yield* d.at(TIMEOUT)
      assert.strictEqual(yield* d.stalls, 0, "the item reset the clock")
      yield* d.at(100_000 + TIMEOUT - 1)
      assert.strictEqual(yield* d.stalls, 0)
      yield* d.at(100_000 + TIMEOUT)
      assert.strictEqual(yield* d.stalls, 1)
      yield* d.end
    }),
  )

  it.effect("a bounded reconnect message and a non-JSON line also reset it", () =>
    Effect.gen(function* () {
      const d = yield* detector
      yield* d.offer(waiting)
      yield* d.at(60_000)
      yield* d.offer(reconnecting)
      yield* d.at(70_000)
      yield* d.offer(waiting)
      yield* d.at(150_000)
      yield* d.offer(notJson)
      yield* d.at(10 * TIMEOUT)
      assert.strictEqual(yield* d.stalls, 0)
      yield* d.end
    }),
  )

  it.effect("ends with its input, without a stall for a wait in progress", () =>
    Effect.gen(function* () {
      const d = yield* detector
      yield* d.offer(waiting)
      yield* d.at(TIMEOUT - 1)
      yield* d.end
      assert.strictEqual(yield* d.stalls, 0)
    }),
  )
})
