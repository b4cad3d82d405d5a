import { Clock, Duration, Effect, TestClock } from "effect"
import { MAX_TIMER_MS } from "../../src/domain/longSleep.js"

/**
 * Runs `effect` on this test's `TestClock`, but with the live clock's limit: a sleep longer than
 * 2^31-1 ms never ends (Effect's live scheduler treats it as infinite, as `setTimeout` cannot hold
 * it). `TestClock.adjust` outside `effect` still moves its time.
 */
export const withTimerCap = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(TestClock.testClock(), (test) => {
    const capped: Clock.Clock = {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => test.unsafeCurrentTimeMillis(),
      currentTimeMillis: test.currentTimeMillis,
      unsafeCurrentTimeNanos: () => test.unsafeCurrentTimeNanos(),
      currentTimeNanos: test.currentTimeNanos,
      sleep: (d) => (Duration.toMillis(d) > MAX_TIMER_MS ? Effect.never : test.sleep(d)),
    }
    return Effect.withClock(effect, capped)
  })
