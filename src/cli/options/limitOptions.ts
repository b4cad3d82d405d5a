/**
 * The limit options of `start` (and `send --max-tokens`): spread into the commands'
 * option sets; `startLimits`/`sendLimits` turn them into what `Tasks` takes (bad durations and
 * bad env defaults are usage errors, exit 2).
 */
import { Options } from "@effect/cli"
import { Effect, Either, Option } from "effect"
import { parseDuration } from "../../domain/duration.js"
import { UsageError } from "../../domain/exit.js"
import { LIMIT_ENV, resolveLimits, type TaskLimits } from "../../domain/policy.js"

const maxTokens = Options.integer("max-tokens").pipe(
  Options.withDescription(
    "Token budget of the thread (input + output tokens): no turn starts once it is reached; queued prompts are dropped.",
  ),
  Options.optional,
)

/** Options of `start`. */
export const limitOptions = {
  stallTimeout: Options.text("stall-timeout").pipe(
    Options.withDescription(
      `Interrupt and retry a turn that prints nothing this long while no command runs (e.g. 5m; env ${LIMIT_ENV.stall}; default off).`,
    ),
    Options.optional,
  ),
  turnTimeout: Options.text("turn-timeout").pipe(
    Options.withDescription(
      `Interrupt a turn running longer than this (e.g. 2h; outcome timed_out; env ${LIMIT_ENV.turn}).`,
    ),
    Options.optional,
  ),
  maxTokens,
  maxLimitWait: Options.text("max-limit-wait").pipe(
    Options.withDescription(
      `Wait at most this long in total for usage limits to reset (env ${LIMIT_ENV.maxLimitWait}; default 12h).`,
    ),
    Options.optional,
  ),
}

/** Options of `send`. */
export const sendLimitOptions = { maxTokens }

type StartLimitValues = {
  readonly stallTimeout: Option.Option<string>
  readonly turnTimeout: Option.Option<string>
  readonly maxTokens: Option.Option<number>
  readonly maxLimitWait: Option.Option<string>
}

const duration = (flag: string, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) =>
      Either.match(parseDuration(text), {
        onLeft: (message) => Effect.fail(new UsageError({ message: `--${flag}: ${message}` })),
        onRight: (ms) => Effect.succeed(ms),
      }),
  })

const tokens = (value: Option.Option<number>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (n) =>
      n > 0 && Number.isSafeInteger(n)
        ? Effect.succeed(n)
        : Effect.fail(
            new UsageError({
              message: `--max-tokens must be a positive number up to ${Number.MAX_SAFE_INTEGER}: ${n}`,
            }),
          ),
  })

/** The limits a `start` stores with the task: its flags, else the env defaults. */
export const startLimits = (o: StartLimitValues): Effect.Effect<TaskLimits, UsageError> =>
  Effect.gen(function* () {
    const given = {
      stallTimeoutMs: yield* duration("stall-timeout", o.stallTimeout),
      turnTimeoutMs: yield* duration("turn-timeout", o.turnTimeout),
      maxTokens: yield* tokens(o.maxTokens),
      maxLimitWaitMs: yield* duration("max-limit-wait", o.maxLimitWait),
    }
    return yield* Either.match(resolveLimits(given, process.env), {
      onLeft: (message) => Effect.fail(new UsageError({ message })),
      onRight: (limits) => Effect.succeed(limits),
    })
  })

/** What `send --max-tokens` changes. */
export const sendLimits = (o: { readonly maxTokens: Option.Option<number> }) =>
  Effect.map(tokens(o.maxTokens), (maxTokens) => (maxTokens === undefined ? {} : { maxTokens }))
