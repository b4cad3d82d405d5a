/**
 * The retry policy for retryable codex failures: what it is (carried in the worker request), its
 * default, how the environment sets it, and the backoff it makes (`worker/prompt.ts` runs it).
 */
import { Duration, Schedule, Schema } from "effect"

/** Retry policy for retryable codex failures. */
export const RetryPolicy = Schema.Struct({
  /** Extra attempts after the first (default 2). */
  maxRetries: Schema.Number,
  /** First backoff delay; doubles each attempt, with ±50 % jitter. */
  baseDelayMs: Schema.Number,
  /** Upper bound of one delay. */
  maxDelayMs: Schema.Number,
})
/** Retry policy. */
export type RetryPolicy = typeof RetryPolicy.Type

/** The default retry policy: 2 retries, 2 s then 4 s (±50 %). */
export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 2_000,
  maxDelayMs: 60_000,
}

const count = (text: string | undefined, fallback: number, max: number) => {
  const n = Number(text)
  return text !== undefined && text !== "" && Number.isInteger(n) && n >= 0
    ? Math.min(n, max)
    : fallback
}

/**
 * The retry policy: `CODEX_TASKS_MAX_RETRIES` (default 2, at most 10) retries of a retryable
 * failure, the first after `CODEX_TASKS_RETRY_DELAY_MS` (default 2000) ms, doubling each time.
 */
export const retryPolicyFromEnv = (env: NodeJS.ProcessEnv): RetryPolicy => ({
  maxRetries: count(env.CODEX_TASKS_MAX_RETRIES, defaultRetryPolicy.maxRetries, 10),
  baseDelayMs: count(env.CODEX_TASKS_RETRY_DELAY_MS, defaultRetryPolicy.baseDelayMs, 600_000),
  maxDelayMs: defaultRetryPolicy.maxDelayMs,
})

/**
 * The backoff between attempts: `baseDelayMs`, doubling, each delay scaled by a random factor in
 * [0.5, 1.5) and capped at `maxDelayMs`; at most `maxRetries` retries. Its output carries the
 * failure (`E`) that is being retried.
 */
export const retrySchedule = <E>(policy: RetryPolicy) =>
  Schedule.exponential(Duration.millis(policy.baseDelayMs), 2).pipe(
    Schedule.jitteredWith({ min: 0.5, max: 1.5 }),
    Schedule.modifyDelay((_, d) => Duration.min(d, Duration.millis(policy.maxDelayMs))),
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.intersect(Schedule.identity<E>()),
  )
