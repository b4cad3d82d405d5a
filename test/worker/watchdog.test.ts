import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream, TestClock } from "effect"
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
