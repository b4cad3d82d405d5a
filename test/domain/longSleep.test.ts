import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { MAX_TIMER_MS, sleepFor, sleepUntil } from "../../src/domain/longSleep.js"
import { withTimerCap } from "../support/cappedClock.js"

const DAY = 86_400_000

describe("long sleeps (a timer holds at most 2^31-1 ms)", () => {
  it.effect("a 30-day sleep ends after 30 days, not before", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(withTimerCap(sleepFor(30 * DAY)))
      yield* TestClock.adjust(30 * DAY - 1)
      assert.isNull(fiber.unsafePoll(), "still sleeping 1 ms before the end")
      yield* TestClock.adjust(1)
      assert.isNotNull(fiber.unsafePoll(), "over at 30 days")
    }),
  )

  it.effect(
    "a plain Effect.sleep that long never ends on such a clock (what the steps avoid)",
    () =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(withTimerCap(Effect.sleep(MAX_TIMER_MS + 1)))
        yield* TestClock.adjust(60 * DAY)
        assert.isNull(fiber.unsafePoll())
        yield* Fiber.interrupt(fiber)
      }),
  )

  it.effect("sleepUntil re-reads the wall clock after each step (a suspend ends it on time)", () =>
    Effect.gen(function* () {
      const test = yield* TestClock.testClock()
      // Wall time = the TestClock's + `suspended`: a suspend moves it while the timers stand still.
      let suspended = 0
      const wall: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeMillis: () => test.unsafeCurrentTimeMillis() + suspended,
        currentTimeMillis: Effect.map(test.currentTimeMillis, (t) => t + suspended),
        unsafeCurrentTimeNanos: () => test.unsafeCurrentTimeNanos(),
        currentTimeNanos: test.currentTimeNanos,
        sleep: (d) => test.sleep(d),
      }
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(
        Effect.withClock(sleepUntil(start + 10 * 60_000, { stepMs: 60_000 }), wall),
      )
      suspended = 9 * 60_000
      yield* TestClock.adjust(60_000)
      assert.isNotNull(fiber.unsafePoll(), "over one step after the suspend, not 9 minutes later")
    }),
  )

  it.effect("a deadline already past returns at once", () =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sleepUntil(now - 1)
      yield* sleepFor(0)
    }),
  )
})
