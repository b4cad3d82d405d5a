/**
 * Sleeps of any length. Effect's live clock hands a sleep to `setTimeout`, which holds at most
 * 2^31-1 ms (about 24.8 days): a longer sleep is treated as infinite and never ends. These sleep
 * in steps of at most that, each step re-reading the wall clock (`Clock.currentTimeMillis`), so
 * they end at their deadline; a shorter `stepMs` also bounds how late a wait ends after the
 * machine was suspended (a timer's own clock does not run during a suspend).
 */
import { Clock, Effect } from "effect"

/** The longest delay a JavaScript timer holds: 2^31-1 ms (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** How a long sleep is cut into steps. */
export interface SleepSteps {
  /** The longest single timer (default and upper bound `MAX_TIMER_MS`). */
  readonly stepMs?: number | undefined
}

const stepOf = (steps: SleepSteps | undefined): number =>
  Math.max(1, Math.min(steps?.stepMs ?? MAX_TIMER_MS, MAX_TIMER_MS))

/** Sleeps until the wall clock reads `deadlineMs` (epoch ms), in steps (see `SleepSteps`). */
export const sleepUntil = (deadlineMs: number, steps?: SleepSteps): Effect.Effect<void> =>
  Effect.gen(function* () {
    const step = stepOf(steps)
    for (;;) {
      const left = deadlineMs - (yield* Clock.currentTimeMillis)
      if (!(left > 0)) return
      yield* Effect.sleep(Math.min(left, step))
    }
  })

/** Sleeps `ms` milliseconds, however many: `sleepUntil` now + `ms`. */
export const sleepFor = (ms: number, steps?: SleepSteps): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => sleepUntil(now + ms, steps))
