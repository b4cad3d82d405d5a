import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Option, TestClock } from "effect"
import {
  makeWorkerControl,
  sleepUnlessStopped,
  unlessStopped,
  WorkerControl,
} from "../../src/worker/WorkerControl.js"
import { withTimerCap } from "../support/cappedClock.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR

// Each test gets a fresh control; `stop` is what a signal does in the worker process.
const withControl = <A, E>(
  body: (
    stop: (mode: "now" | "after-turn") => Effect.Effect<unknown>,
  ) => Effect.Effect<A, E, WorkerControl>,
) =>
  Effect.flatMap(makeWorkerControl, ({ control, request }) =>
    Effect.provideService(body(request), WorkerControl, control),
  )

describe("sleepUnlessStopped (the worker's one way to wait)", () => {
  it.effect("without a stop it sleeps its full time and says it was not stopped", () =>
    withControl(() =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(sleepUnlessStopped({ ms: HOUR }))
        yield* TestClock.adjust(HOUR - 1)
        assert.isNull(fiber.unsafePoll(), "still sleeping 1 ms before the end")
        yield* TestClock.adjust(1)
        assert.isFalse(yield* Fiber.join(fiber))
      }),
    ),
  )

  it.effect("a stop during the sleep ends it at once (no clock time passes) and says so", () =>
    withControl((stop) =>
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.fork(sleepUnlessStopped({ ms: HOUR }))
        yield* TestClock.adjust(60_000)
        assert.isNull(fiber.unsafePoll(), "sleeping before the stop")
        yield* stop("after-turn")
        assert.isTrue(yield* Fiber.join(fiber))
        assert.strictEqual((yield* Clock.currentTimeMillis) - start, 60_000)
      }),
    ),
  )

  it.effect("a stop requested before the wait ends it before it begins", () =>
    withControl((stop) =>
      Effect.gen(function* () {
        yield* stop("now")
        assert.isTrue(yield* sleepUnlessStopped({ ms: HOUR }))
      }),
    ),
  )

  it.effect("a wall-clock deadline past the 24.8-day timer limit ends on time", () =>
    withControl(() =>
      Effect.gen(function* () {
        const until = (yield* Clock.currentTimeMillis) + 30 * DAY
        const fiber = yield* Effect.fork(withTimerCap(sleepUnlessStopped({ untilMs: until })))
        yield* TestClock.adjust(30 * DAY - 1)
        assert.isNull(fiber.unsafePoll(), "still sleeping 1 ms before the deadline")
        yield* TestClock.adjust(1)
        assert.isFalse(yield* Fiber.join(fiber))
      }),
    ),
  )

  it.effect('on "now", an after-turn stop does not end the wait; an immediate one does', () =>
    withControl((stop) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(sleepUnlessStopped({ ms: HOUR }, { on: "now" }))
        yield* stop("after-turn")
        yield* TestClock.adjust(60_000)
        assert.isNull(fiber.unsafePoll(), "an after-turn stop lets it sleep on")
        yield* stop("now")
        assert.isTrue(yield* Fiber.join(fiber))
      }),
    ),
  )
})

describe("unlessStopped", () => {
  it.effect("a stop interrupts the effect (its finalizers run) and gives None", () =>
    withControl((stop) =>
      Effect.gen(function* () {
        const released = yield* Deferred.make<void>()
        const waiting = Effect.never.pipe(
          Effect.onInterrupt(() => Deferred.succeed(released, undefined)),
        )
        const fiber = yield* Effect.fork(unlessStopped(waiting))
        yield* TestClock.adjust(60_000)
        yield* stop("now")
        assert.isTrue(Option.isNone(yield* Fiber.join(fiber)))
        assert.isTrue(yield* Deferred.isDone(released))
      }),
    ),
  )

  it.effect("without a stop it gives the effect's value", () =>
    withControl(() =>
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* unlessStopped(Effect.succeed(7)), Option.some(7))
      }),
    ),
  )
})
