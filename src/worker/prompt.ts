import { Duration, Effect, Either, Option, Ref, Schedule } from "effect"
import { retryEntry, workerNote } from "../domain/logEntries.js"
import { retrySchedule } from "../domain/retryPolicy.js"
import { nowTimestamp } from "../domain/task.js"
import {
  type AttemptContext,
  AttemptFailed,
  type PromptInput,
  type PromptResult,
  runAttempt,
  worthRetrying,
} from "./attempt.js"
import { WorkerEnv } from "./env.js"
import type { TaskLog } from "./taskLog.js"
import { isStopping, sleepUnlessStopped } from "./WorkerControl.js"

/**
 * Runs one prompt until it completes, is interrupted, or fails for good. A failure is retried
 * after a `retrySchedule` delay while it is worth retrying and no stop was requested; each retry
 * is logged with its delay. A stop during a backoff ends the wait at once (`sleepUnlessStopped`).
 */
export const runPrompt = (
  log: TaskLog,
  input: PromptInput,
  onThread: AttemptContext["onThread"] = () => Effect.dieMessage("the task exists already"),
) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const ctx: AttemptContext = {
      log,
      thread: yield* Ref.make(input.threadId),
      attempts: yield* Ref.make(0),
      onThread,
    }
    // The schedule only says how long each backoff is (its output); the wait is ours.
    const backoff = yield* Schedule.driver(
      Schedule.delays(retrySchedule<AttemptFailed>(env.retry)).pipe(
        Schedule.modifyDelay(() => Duration.zero),
      ),
    )
    for (;;) {
      // The one edge where a store failure becomes a defect: the worker's guard records it.
      const ran = yield* runAttempt(ctx, input).pipe(
        Effect.catchIf(
          (e): e is Exclude<typeof e, AttemptFailed> => !(e instanceof AttemptFailed),
          (e) => Effect.die(e),
        ),
        Effect.either,
      )
      if (Either.isRight(ran)) return ran.right
      const failure = ran.left
      const failed: PromptResult = {
        _tag: "Failed",
        loc: failure.loc,
        error: failure.error,
        sideEffects: failure.sideEffects,
      }
      // Decided before the delay: only a retry that will happen is logged.
      if (
        (yield* isStopping()) ||
        !worthRetrying(failure) ||
        failure.attempt > env.retry.maxRetries
      )
        return failed
      const delay = yield* Effect.option(backoff.next(failure))
      if (Option.isNone(delay)) return failed
      const delayMs = Duration.toMillis(delay.value)
      yield* env.store
        .appendLog(
          failure.loc,
          retryEntry({
            attempt: failure.attempt,
            maxRetries: env.retry.maxRetries,
            delayMs,
            errorClass: failure.error._tag,
            message: failure.error.message,
          }),
        )
        .pipe(Effect.orDie)
      if (yield* sleepUnlessStopped({ ms: delayMs })) {
        // A stop during the backoff: the task was stopped, not killed by the failure.
        yield* env.store.appendLog(failure.loc, workerNote("stop requested during retry backoff"))
        yield* env.updateMeta(failure.loc, (m) => ({
          ...m,
          last_outcome: {
            kind: "interrupted",
            message: "by stop (during retry backoff)",
            at: nowTimestamp(),
          },
        }))
        return { _tag: "Interrupted", loc: failure.loc } satisfies PromptResult
      }
    }
  })
