import { Deferred, Duration, Effect, Exit, Fiber, Option, Ref, Schedule } from "effect"
import { retryEntry, workerNote } from "../domain/logEntries.js"
import { nowTimestamp } from "../domain/task.js"
import {
  type AttemptContext,
  AttemptFailed,
  type PromptInput,
  type PromptResult,
  runAttempt,
  worthRetrying,
} from "./attempt.js"
import type { WorkerEnv } from "./env.js"
import type { RetryPolicy } from "./protocol.js"
import type { TaskLog } from "./taskLog.js"

/**
 * The backoff between attempts: `baseDelayMs`, doubling, each delay scaled by a random factor in
 * [0.5, 1.5) and capped at `maxDelayMs`; at most `maxRetries` retries. Its output carries the
 * failure that is being retried.
 */
export const retrySchedule = (policy: RetryPolicy) =>
  Schedule.exponential(Duration.millis(policy.baseDelayMs), 2).pipe(
    Schedule.jitteredWith({ min: 0.5, max: 1.5 }),
    Schedule.modifyDelay((_, d) => Duration.min(d, Duration.millis(policy.maxDelayMs))),
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.intersect(Schedule.identity<AttemptFailed>()),
  )

/**
 * Runs one prompt until it completes, is interrupted, or fails for good. A failure is retried
 * (`Effect.retry` on `retrySchedule`) while it is worth retrying and no stop was requested; each
 * retry is logged with its delay. A stop during a backoff ends the wait at once.
 */
export const runPrompt = (
  env: WorkerEnv,
  log: TaskLog,
  input: PromptInput,
  onThread: AttemptContext["onThread"] = () => Effect.dieMessage("the task exists already"),
) =>
  Effect.gen(function* () {
    const ctx: AttemptContext = {
      env,
      log,
      thread: yield* Ref.make(input.threadId),
      attempts: yield* Ref.make(0),
      onThread,
    }
    const stopRequested = Deferred.isDone(env.control.stopRequested)
    // Deciding to sleep and deciding that a stop cuts the sleep short happen one at a time.
    const turnstile = yield* Effect.makeSemaphore(1)
    const backingOff = yield* Ref.make(false)

    // The one edge where a store failure becomes a defect: the worker's guard records it.
    const attempt = turnstile
      .withPermits(1)(Ref.set(backingOff, false))
      .pipe(
        Effect.zipRight(runAttempt(ctx, input)),
        Effect.catchIf(
          (e): e is Exclude<typeof e, AttemptFailed> => !(e instanceof AttemptFailed),
          (e) => Effect.die(e),
        ),
      )
    // The predicate comes before the delay: only a retry that will happen is logged.
    const schedule = retrySchedule(env.retry).pipe(
      Schedule.whileInputEffect((f: AttemptFailed) =>
        Effect.map(
          stopRequested,
          (stopping) => !stopping && worthRetrying(f) && f.attempt <= env.retry.maxRetries,
        ),
      ),
      Schedule.modifyDelayEffect(([, failure], delay) =>
        turnstile.withPermits(1)(
          Effect.gen(function* () {
            yield* Ref.set(backingOff, true)
            yield* env.store.appendLog(
              failure.loc,
              retryEntry({
                attempt: failure.attempt,
                maxRetries: env.retry.maxRetries,
                delayMs: Duration.toMillis(delay),
                errorClass: failure.error._tag,
                message: failure.error.message,
              }),
            )
            return delay
          }).pipe(Effect.orDie),
        ),
      ),
    )
    const retried = Effect.retry(attempt, schedule)
    const fiber = yield* Effect.fork(retried)
    const cutBackoff = yield* Effect.fork(
      Effect.zipRight(
        Deferred.await(env.control.stopRequested),
        turnstile.withPermits(1)(
          Effect.flatMap(Ref.get(backingOff), (b) => (b ? Fiber.interrupt(fiber) : Effect.void)),
        ),
      ),
    )
    const exit = yield* Fiber.await(fiber)
    yield* Fiber.interrupt(cutBackoff)
    const loc = yield* log.location
    if (Exit.isInterrupted(exit) && Option.isSome(loc) && (yield* stopRequested)) {
      // A stop during the backoff: the task was stopped, not killed by the failure.
      yield* env.store.appendLog(loc.value, workerNote("stop requested during retry backoff"))
      yield* env.updateMeta(loc.value, (m) => ({
        ...m,
        last_outcome: {
          kind: "interrupted",
          message: "by stop (during retry backoff)",
          at: nowTimestamp(),
        },
      }))
      return { _tag: "Interrupted", loc: loc.value } satisfies PromptResult
    }
    return yield* Effect.catchTag(exit, "AttemptFailed", (f) =>
      Effect.succeed<PromptResult>({
        _tag: "Failed",
        loc: f.loc,
        error: f.error,
        sideEffects: f.sideEffects,
      }),
    )
  })
