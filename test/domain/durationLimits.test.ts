import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, Schema } from "effect"
import { startLimits } from "../../src/cli/options/limitOptions.js"
import { MAX_DURATION_MS, parseDuration } from "../../src/domain/duration.js"
import { resolveLimits, TaskLimits } from "../../src/domain/policy.js"

const left = <A>(e: Either.Either<A, string>): string => (Either.isLeft(e) ? e.left : "")

const noLimits = {
  stallTimeout: Option.none<string>(),
  turnTimeout: Option.none<string>(),
  maxTokens: Option.none<number>(),
  maxLimitWait: Option.none<string>(),
}

describe("durations have a documented maximum (365d)", () => {
  it("accepts 365d, refuses longer with the maximum named", () => {
    assert.deepStrictEqual(parseDuration("365d"), Either.right(MAX_DURATION_MS))
    for (const text of ["366d", "9999999999999d", "99999999999999999999999"]) {
      assert.strictEqual(
        left(parseDuration(text)),
        `Duration ${JSON.stringify(text)} is too long: at most 365d.`,
      )
    }
  })

  it.effect(
    "--turn-timeout 9999999999999d is a usage error, not a task that cannot be stored",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          startLimits({ ...noLimits, turnTimeout: Option.some("9999999999999d") }),
        )
        assert.strictEqual(error._tag, "UsageError")
        assert.strictEqual(
          error.message,
          '--turn-timeout: Duration "9999999999999d" is too long: at most 365d.',
        )
      }),
  )

  it.effect("--max-tokens past 2^53 is a usage error; what passes can be stored", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(startLimits({ ...noLimits, maxTokens: Option.some(1e20) }))
      assert.strictEqual(error._tag, "UsageError")
      assert.match(error.message, /^--max-tokens must be a positive number up to 9007199254740991/)
      const limits = yield* startLimits({
        ...noLimits,
        turnTimeout: Option.some("365d"),
        maxTokens: Option.some(Number.MAX_SAFE_INTEGER),
      })
      assert.isTrue(Either.isRight(Schema.encodeEither(TaskLimits)(limits)))
    }),
  )
})

describe("--stall-timeout has a floor of 5 minutes", () => {
  it("refuses a shorter flag or env default, naming where it came from", () => {
    assert.strictEqual(
      left(resolveLimits({ stallTimeoutMs: 30_000 }, {})),
      "--stall-timeout 30s is too short: at least 5m (a model that is thinking prints nothing until it is done; 0 turns the watchdog off).",
    )
    assert.match(
      left(resolveLimits({}, { CODEX_TASKS_STALL_TIMEOUT: "90s" })),
      /^CODEX_TASKS_STALL_TIMEOUT 1m30s is too short: at least 5m/,
    )
  })

  it("accepts 5m, 0 (off), and a shorter value under CODEX_TASKS_STALL_FLOOR (tests)", () => {
    const stall = (ms: number, env: NodeJS.ProcessEnv = {}) =>
      Either.map(resolveLimits({ stallTimeoutMs: ms }, env), (l) => l.stall_timeout_ms)
    assert.deepStrictEqual(stall(300_000), Either.right(300_000))
    assert.deepStrictEqual(stall(0), Either.right(undefined))
    assert.deepStrictEqual(stall(3_000, { CODEX_TASKS_STALL_FLOOR: "1s" }), Either.right(3_000))
  })
})
