/**
 * Usage-limit waits (issue 12): a turn that failed with `UsageLimitReached` does not end the task.
 * The worker records `waiting: {for: "usage_limit", until}`, tells the store (`store/usageLimit.ts`)
 * so other workers hold their turns too, sleeps until the reset (on `Clock`; a stop ends the wait
 * at once), then runs the prompt again (no side effects) or resumes the thread saying the turn was
 * cut off. All waits of one prompt together are bounded by `--max-limit-wait`.
 */
import { Clock, Deferred, Effect, Option, Random, Ref } from "effect"
import { formatDuration } from "../domain/duration.js"
import { UsageLimitReached } from "../domain/errors.js"
import { userMessage, workerNote } from "../domain/logEntries.js"
import { DEFAULT_MAX_LIMIT_WAIT_MS } from "../domain/policy.js"
import { nowTimestamp } from "../domain/task.js"
import { minutePrecision, resetTimeOf } from "../domain/usageReset.js"
import type { TaskLocation } from "../store/TaskStore.js"
import { readUsageLimit, recordUsageLimit } from "../store/usageLimit.js"
import type { AttemptContext, PromptInput, PromptResult } from "./attempt.js"
import type { WorkerEnv } from "./env.js"
import { runPrompt } from "./prompt.js"
import type { TaskLog } from "./taskLog.js"

/** What the worker sends when the cut-off turn had already acted (ran a command, changed a file). */
export const CUT_OFF_PROMPT =
  "Your previous turn was cut off by a usage limit before it finished; the workspace may hold its partial changes. Continue the task from where you left off."

/** How long to wait when the message names no reset time. */
export const UNKNOWN_RESET_WAIT_MS = 30 * 60_000

/**
 * When to try again: the reset time, or `floorMs` from now when the reported minute has already
 * begun (codex truncates the time to the minute), plus a jitter of up to a third of `floorMs`.
 */
export const wakeTime = (
  resetMs: number,
  nowMs: number,
  options: { readonly floorMs: number; readonly minutePrecision: boolean; readonly random: number },
): number => {
  const base =
    options.minutePrecision && resetMs <= nowMs ? nowMs + options.floorMs : Math.max(resetMs, nowMs)
  return base + Math.round(options.random * (options.floorMs / 3))
}

/** Sleeps until `untilMs` with `waiting` recorded; true when a stop ended the wait. */
const waitUntil = (env: WorkerEnv, loc: TaskLocation, untilMs: number, sinceMs: number) =>
  Effect.gen(function* () {
    const until = new Date(untilMs).toISOString()
    const since = new Date(sinceMs).toISOString()
    yield* env.updateMeta(loc, (m) => ({ ...m, waiting: { for: "usage_limit", until, since } }))
    const now = yield* Clock.currentTimeMillis
    const stopped = yield* Effect.raceFirst(
      Effect.as(Effect.sleep(Math.max(0, untilMs - now)), false),
      Effect.as(Deferred.await(env.control.stopRequested), true),
    )
    yield* env.updateMeta(loc, ({ waiting: _, ...m }) =>
      stopped
        ? {
            ...m,
            last_outcome: {
              kind: "interrupted",
              message: "by stop (during a usage-limit wait)",
              at: nowTimestamp(),
            },
          }
        : m,
    )
    if (stopped)
      yield* env.store.appendLog(loc, workerNote("stop requested during a usage-limit wait"))
    return stopped
  })

const tooLong = (
  loc: TaskLocation,
  error: UsageLimitReached | undefined,
  untilMs: number,
  maxMs: number,
) =>
  ({
    _tag: "Failed",
    loc,
    error: new UsageLimitReached({
      message: `The usage limit resets at ${new Date(untilMs).toISOString()}, past --max-limit-wait (${formatDuration(maxMs)}); the task gave up.${error === undefined ? "" : ` ${error.message}`}`,
      evidence: error?.evidence ?? { exitCode: null, signal: null, stderrTail: [], lastEvents: [] },
    }),
  }) satisfies PromptResult

/**
 * Runs one prompt (`runPrompt`, with its retries) and waits out usage limits: before the turn
 * while the store knows of a limit not reset yet (once the task exists), and after a turn that
 * hit one. Ends `Failed` with `UsageLimitReached` when the next wait would pass max-limit-wait.
 */
export const runPromptWaiting = (
  env: WorkerEnv,
  log: TaskLog,
  input: PromptInput,
  onThread?: AttemptContext["onThread"],
) =>
  Effect.gen(function* () {
    const maxMs = (yield* Ref.get(env.limits)).max_limit_wait_ms ?? DEFAULT_MAX_LIMIT_WAIT_MS
    let firstWait: number | undefined
    let current = input
    let create = onThread
    for (;;) {
      const at = yield* log.location
      if (Option.isSome(at)) {
        const known = yield* readUsageLimit(env.store.root)
        const now = yield* Clock.currentTimeMillis
        if (known !== undefined && known > now) {
          const wake = known + Math.round((yield* Random.next) * (env.limitFloorMs / 3))
          firstWait ??= now
          if (wake - firstWait > maxMs) return tooLong(at.value, undefined, known, maxMs)
          yield* env.store.appendLog(
            at.value,
            workerNote(
              `another task hit the usage limit: waiting until ${new Date(wake).toISOString()}`,
            ),
          )
          if (yield* waitUntil(env, at.value, wake, now))
            return { _tag: "Interrupted", loc: at.value } satisfies PromptResult
        }
      }
      const result = yield* runPrompt(env, log, current, create)
      if (result._tag !== "Failed" || result.error._tag !== "UsageLimitReached") return result
      const { loc, error } = result
      const now = yield* Clock.currentTimeMillis
      const reset = resetTimeOf(error.message, now) ?? now + UNKNOWN_RESET_WAIT_MS
      yield* recordUsageLimit(env.store.root, reset, now, loc.id).pipe(Effect.ignore)
      const wake = wakeTime(reset, now, {
        floorMs: env.limitFloorMs,
        minutePrecision: minutePrecision(error.message),
        random: yield* Random.next,
      })
      firstWait ??= now
      if (wake - firstWait > maxMs) {
        const failed = tooLong(loc, error, reset, maxMs)
        yield* env.updateMeta(loc, (m) => ({
          ...m,
          last_outcome: {
            kind: "failed",
            error_class: failed.error._tag,
            message: failed.error.message,
            at: nowTimestamp(),
          },
        }))
        return failed
      }
      yield* env.store.appendLog(
        loc,
        workerNote(
          `usage limit reached: waiting until ${new Date(wake).toISOString()} (reset ${new Date(reset).toISOString()})`,
        ),
      )
      if (yield* waitUntil(env, loc, wake, now))
        return { _tag: "Interrupted", loc } satisfies PromptResult
      // The thread exists now: the next attempt resumes it.
      create = undefined
      if (result.sideEffects === true) {
        current = { ...input, prompt: CUT_OFF_PROMPT, threadId: loc.id }
        yield* log.write(workerNote("the usage limit has reset: resuming the cut-off turn"))
        yield* log.write(userMessage(CUT_OFF_PROMPT))
      } else {
        current = { ...input, threadId: loc.id }
        yield* log.write(workerNote("the usage limit has reset: running the prompt again"))
      }
    }
  })
