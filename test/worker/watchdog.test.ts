import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream, SubscriptionRef, TestClock } from "effect"
import type { ExecLine } from "../../src/exec/decode.js"
import { watchTurn } from "../../src/worker/watchdog.js"
import { withTimerCap } from "../support/cappedClock.js"

const DAY = 86_400_000
const silent = Stream.never as Stream.Stream<ExecLine>

// On the live clock a sleep past 2^31-1 ms (24.8 days) never fires: `withTimerCap` keeps that
// limit on the TestClock, so these fail if the watchdog hands such a limit to one timer.
describe("the turn watchdog with limits past a timer's 24.8 days", () => {
  it.effect("--turn-timeout 30d cuts the turn after 30 days", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(withTimerCap(watchTurn(silent, { turnTimeoutMs: 30 * DAY })))
      yield* TestClock.adjust(30 * DAY)
      assert.strictEqual(yield* Fiber.join(fiber), "timed_out")
    }),
  )

  it.effect("--stall-timeout 30d cuts a silent turn after 30 days", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        withTimerCap(watchTurn(silent, { stallTimeoutMs: 30 * DAY })),
      )
      yield* TestClock.adjust(30 * DAY - 1)
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* Fiber.join(fiber), "stalled")
    }),
  )
})

describe("the turn watchdog while codex waits for an answer (held)", () => {
  it.effect(
    "--turn-timeout does not count the time held: 10 s + 60 s held + 10 s is not cut at 20 s",
    () =>
      Effect.gen(function* () {
        const held = yield* SubscriptionRef.make(0)
        const fiber = yield* Effect.fork(watchTurn(silent, { turnTimeoutMs: 20_000, held }))
        yield* TestClock.adjust(10_000)
        yield* SubscriptionRef.set(held, 1)
        yield* TestClock.adjust(60_000)
        assert.isNull(fiber.unsafePoll(), "not cut while held")
        yield* SubscriptionRef.set(held, 0)
        yield* TestClock.adjust(9_999)
        assert.isNull(fiber.unsafePoll(), "10 s + 9.999 s of turn")
        yield* TestClock.adjust(1)
        assert.strictEqual(yield* Fiber.join(fiber), "timed_out")
      }),
  )

  it.effect("--stall-timeout does not fire while held, and counts again once answered", () =>
    Effect.gen(function* () {
      const held = yield* SubscriptionRef.make(0)
      const fiber = yield* Effect.fork(watchTurn(silent, { stallTimeoutMs: 5_000, held }))
      yield* TestClock.adjust(1_000)
      yield* SubscriptionRef.set(held, 1)
      yield* TestClock.adjust(3_600_000)
      assert.isNull(fiber.unsafePoll())
      yield* SubscriptionRef.set(held, 0)
      yield* TestClock.adjust(3_999)
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* Fiber.join(fiber), "stalled")
    }),
  )
})
