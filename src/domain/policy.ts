/**
 * The per-task limits: stored in `task.json` under `limits` when the task starts and
 * applied to every later turn. Snake_case on disk; every field optional (absent = no limit).
 */
import { Either, Schema } from "effect"
import { formatDuration, parseDuration } from "./duration.js"

const Positive = Schema.Number.pipe(Schema.int(), Schema.positive())

/** A task's limits as stored in `task.json`. */
export const TaskLimits = Schema.Struct({
  /** A turn printing nothing this long, with no command running, is interrupted and retried. */
  stall_timeout_ms: Schema.optional(Positive),
  /** A turn running longer is interrupted (outcome `timed_out`, not retried). */
  turn_timeout_ms: Schema.optional(Positive),
  /** No turn starts once the thread's input + output tokens reached this. */
  max_tokens: Schema.optional(Positive),
  /** How long the task may wait in total for usage limits to reset before it ends DIED. */
  max_limit_wait_ms: Schema.optional(Positive),
})
/** A task's limits. */
export type TaskLimits = typeof TaskLimits.Type

/** The default `--max-limit-wait`: 12 hours. */
export const DEFAULT_MAX_LIMIT_WAIT_MS = 12 * 3_600_000

/**
 * The shortest `--stall-timeout`: 5 minutes. A model that is reasoning prints nothing until its
 * reasoning item is complete (codex streams no reasoning deltas), and codex itself waits this long
 * (`stream_idle_timeout_ms`) before it gives up on a silent model stream.
 */
export const MIN_STALL_TIMEOUT_MS = 5 * 60_000

/** The environment variables giving the limits' defaults. */
export const LIMIT_ENV = {
  stall: "CODEX_TASKS_STALL_TIMEOUT",
  turn: "CODEX_TASKS_TURN_TIMEOUT",
  maxLimitWait: "CODEX_TASKS_MAX_LIMIT_WAIT",
  /** Lowers `MIN_STALL_TIMEOUT_MS` (a duration; for tests, whose stalls are seconds long). */
  stallFloor: "CODEX_TASKS_STALL_FLOOR",
} as const

/** The limits given on the command line (already parsed), before env defaults. */
export interface LimitInput {
  readonly stallTimeoutMs?: number | undefined
  readonly turnTimeoutMs?: number | undefined
  readonly maxTokens?: number | undefined
  readonly maxLimitWaitMs?: number | undefined
}

const fromEnv = (
  env: NodeJS.ProcessEnv,
  name: string,
): Either.Either<number | undefined, string> => {
  const raw = env[name]
  if (raw === undefined || raw.trim() === "") return Either.right(undefined)
  return Either.mapLeft(parseDuration(raw), (e) => `${name}: ${e}`)
}

/** Why `stallMs` (from `source`) is shorter than the stall floor, or undefined. */
const stallTooShort = (
  stallMs: number | undefined,
  source: string,
  env: NodeJS.ProcessEnv,
): Either.Either<void, string> =>
  Either.gen(function* () {
    if (stallMs === undefined || stallMs <= 0) return
    const floor = (yield* fromEnv(env, LIMIT_ENV.stallFloor)) ?? MIN_STALL_TIMEOUT_MS
    if (stallMs >= floor) return
    return yield* Either.left(
      `${source} ${formatDuration(stallMs)} is too short: at least ${formatDuration(floor)} (a model that is thinking prints nothing until it is done; 0 turns the watchdog off).`,
    )
  })

/**
 * The limits a new task stores: the given ones, else the env defaults; or why one is bad (an env
 * default that is no duration, a stall timeout under `MIN_STALL_TIMEOUT_MS`).
 */
export const resolveLimits = (
  given: LimitInput,
  env: NodeJS.ProcessEnv,
): Either.Either<TaskLimits, string> =>
  Either.gen(function* () {
    const stall = given.stallTimeoutMs ?? (yield* fromEnv(env, LIMIT_ENV.stall))
    yield* stallTooShort(
      stall,
      given.stallTimeoutMs === undefined ? LIMIT_ENV.stall : "--stall-timeout",
      env,
    )
    const turn = given.turnTimeoutMs ?? (yield* fromEnv(env, LIMIT_ENV.turn))
    const wait =
      given.maxLimitWaitMs ??
      (yield* fromEnv(env, LIMIT_ENV.maxLimitWait)) ??
      DEFAULT_MAX_LIMIT_WAIT_MS
    return {
      ...(stall === undefined || stall <= 0 ? {} : { stall_timeout_ms: stall }),
      ...(turn === undefined || turn <= 0 ? {} : { turn_timeout_ms: turn }),
      ...(given.maxTokens === undefined ? {} : { max_tokens: given.maxTokens }),
      ...(wait <= 0 ? {} : { max_limit_wait_ms: wait }),
    }
  })

/** The tokens a budget counts: input + output, as codex reports them for the thread. */
export const tokensUsed = (
  usage: { readonly input_tokens: number; readonly output_tokens: number } | undefined,
): number => (usage === undefined ? 0 : usage.input_tokens + usage.output_tokens)

/** True when the task's token budget is spent (no more turns may start). */
export const budgetSpent = (
  limits: TaskLimits | undefined,
  usage: { readonly input_tokens: number; readonly output_tokens: number } | undefined,
): boolean => limits?.max_tokens !== undefined && tokensUsed(usage) >= limits.max_tokens
