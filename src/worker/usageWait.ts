/**
 * Usage-limit waits: a turn that failed with `UsageLimitReached` does not end the task.
 * The worker records `waiting: {for: "usage_limit", until}`, tells the store (`store/usageLimit.ts`)
 * so other workers hold their turns too, sleeps until the reset (on `Clock`; a stop ends the wait
 * at once), then runs the prompt again (no side effects) or resumes the thread saying the turn was
 * cut off. All waits of one prompt together are bounded by `--max-limit-wait`; a wait that would
 * pass it fails the prompt visibly (outcome, dropped prompts). A wait ends at its wall-clock time:
 * it sleeps in chunks of at most `WAIT_CHUNK_MS` and re-reads the clock after each, so a laptop's
 * suspend does not make it end late (and no single timer exceeds Node's 2^31-1 ms).
 */
import { Clock, Effect, Option, Random, Ref } from "effect"
import { formatDuration } from "../domain/duration.js"
import { UsageLimitReached } from "../domain/errors.js"
import { promptsDropped, userMessage, workerNote } from "../domain/logEntries.js"
import { DEFAULT_MAX_LIMIT_WAIT_MS } from "../domain/policy.js"
import { nowTimestamp } from "../domain/task.js"
import { minutePrecision, resetTimeOf } from "../domain/usageReset.js"
import type { TaskLocation } from "../store/TaskStore.js"
import { readUsageLimit, recordUsageLimit, type UsageIdentity } from "../store/usageLimit.js"
import type { AttemptContext, PromptInput, PromptResult } from "./attempt.js"
import { WorkerEnv } from "./env.js"
import { runPrompt } from "./prompt.js"
import type { TaskLog } from "./taskLog.js"
import { usageIdentityOf } from "./usageIdentity.js"
import { sleepUnlessStopped } from "./WorkerControl.js"

/** What the worker sends when the cut-off turn had already acted (ran a command, changed a file). */
export const CUT_OFF_PROMPT =
  "Your previous turn was cut off by a usage limit before it finished; the workspace may hold its partial changes. Continue the task from where you left off."

/** How long to wait when the message names no reset time. */
export const UNKNOWN_RESET_WAIT_MS = 30 * 60_000

/** The longest single sleep of a wait: after each, the wait re-reads the wall clock. */
export const WAIT_CHUNK_MS = 60_000

/**
 * The jitter after a reset (`random` in [0, 1)): up to twice `floorMs` (a minute with the 30 s
 * floor), so the waiters of a store spread their next turns instead of all starting at once.
 */
export const wakeJitter = (floorMs: number, random: number): number =>
  Math.round(random * 2 * floorMs)

/**
 * When to try again: the reset time, or `floorMs` from now when the reported minute has already
 * begun (codex truncates the time to the minute), plus the jitter (`wakeJitter`).
 */
export const wakeTime = (
  resetMs: number,
  nowMs: number,
  options: { readonly floorMs: number; readonly minutePrecision: boolean; readonly random: number },
): number => {
  const base =
    options.minutePrecision && resetMs <= nowMs ? nowMs + options.floorMs : Math.max(resetMs, nowMs)
  return base + wakeJitter(options.floorMs, options.random)
}

/** Sleeps until `untilMs` with `waiting` recorded; true when a stop ended the wait. */
const waitUntil = (loc: TaskLocation, untilMs: number, sinceMs: number) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const until = new Date(untilMs).toISOString()
    const since = new Date(sinceMs).toISOString()
    yield* env.updateMeta(loc, (m) => ({ ...m, waiting: { for: "usage_limit", until, since } }))
    const stopped = yield* sleepUnlessStopped({ untilMs }, { stepMs: WAIT_CHUNK_MS })
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

/**
 * Gives up on a prompt whose next usage-limit wait would pass `--max-limit-wait`: the outcome
 * says why (the task ends DIED), and a prompt that never reached codex (`notRun`: the store's
 * reset held it) is recorded as dropped, so neither it nor a `send --wait` on it passes quietly.
 */
const giveUp = (
  loc: TaskLocation,
  cause: { readonly error?: UsageLimitReached; readonly notRun?: string },
  untilMs: number,
  maxMs: number,
) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const said = cause.error === undefined ? "" : ` ${cause.error.message}`
    const heldBy =
      cause.notRun === undefined ? "" : " (a reset another turn of this account recorded)"
    const error = new UsageLimitReached({
      message: `The usage limit resets at ${new Date(untilMs).toISOString()}${heldBy}, past --max-limit-wait (${formatDuration(maxMs)}); the task gave up.${said}`,
      evidence: cause.error?.evidence ?? {
        exitCode: null,
        signal: null,
        stderrTail: [],
        lastEvents: [],
      },
    })
    if (cause.notRun !== undefined) {
      yield* env.store.appendLog(
        loc,
        promptsDropped([cause.notRun], `the task failed (${error._tag}): ${error.message}`),
      )
    }
    yield* env.updateMeta(loc, (m) => ({
      ...m,
      ...(cause.notRun === undefined ? {} : { dropped_prompts: (m.dropped_prompts ?? 0) + 1 }),
      last_outcome: {
        kind: "failed",
        error_class: error._tag,
        message: error.message,
        at: nowTimestamp(),
      },
    }))
    return { _tag: "Failed", loc, error } satisfies PromptResult
  })

/**
 * Runs one prompt (`runPrompt`, with its retries) and waits out usage limits: before the turn
 * while the store knows of a limit not reset yet (once the task exists), and after a turn that
 * hit one. Ends `Failed` with `UsageLimitReached` when the next wait would pass max-limit-wait.
 */
export const runPromptWaiting = (
  log: TaskLog,
  input: PromptInput,
  onThread?: AttemptContext["onThread"],
) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const maxMs = (yield* Ref.get(env.limits)).max_limit_wait_ms ?? DEFAULT_MAX_LIMIT_WAIT_MS
    const who: UsageIdentity = yield* usageIdentityOf(input.options)
    let firstWait: number | undefined
    let current = input
    let create = onThread
    for (;;) {
      const at = yield* log.location
      if (Option.isSome(at)) {
        const now = yield* Clock.currentTimeMillis
        const known = yield* readUsageLimit(env.store.root, who, now)
        if (known !== undefined && known > now) {
          const wake = known + wakeJitter(env.limitFloorMs, yield* Random.next)
          firstWait ??= now
          if (wake - firstWait > maxMs)
            return yield* giveUp(at.value, { notRun: current.prompt }, known, maxMs)
          yield* env.store.appendLog(
            at.value,
            workerNote(
              `another task hit the usage limit: waiting until ${new Date(wake).toISOString()}`,
            ),
          )
          if (yield* waitUntil(at.value, wake, now))
            return { _tag: "Interrupted", loc: at.value } satisfies PromptResult
        }
      }
      const result = yield* runPrompt(log, current, create)
      if (result._tag !== "Failed" || result.error._tag !== "UsageLimitReached") return result
      const { loc, error } = result
      const now = yield* Clock.currentTimeMillis
      const reset = resetTimeOf(error.message, now) ?? now + UNKNOWN_RESET_WAIT_MS
      yield* recordUsageLimit(env.store.root, who, reset, now, loc.id).pipe(Effect.ignore)
      const wake = wakeTime(reset, now, {
        floorMs: env.limitFloorMs,
        minutePrecision: minutePrecision(error.message),
        random: yield* Random.next,
      })
      firstWait ??= now
      if (wake - firstWait > maxMs) return yield* giveUp(loc, { error }, reset, maxMs)
      yield* env.store.appendLog(
        loc,
        workerNote(
          `usage limit reached: waiting until ${new Date(wake).toISOString()} (reset ${new Date(reset).toISOString()})`,
        ),
      )
      if (yield* waitUntil(loc, wake, now))
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
