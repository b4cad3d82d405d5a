import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { formatDuration, parseDuration } from "../../src/domain/duration.js"
import { budgetSpent, DEFAULT_MAX_LIMIT_WAIT_MS, resolveLimits } from "../../src/domain/policy.js"
import { minutePrecision, resetTimeOf } from "../../src/domain/usageReset.js"
import { wakeTime } from "../../src/worker/usageWait.js"

// The captured messages name local times of a codex run without TZ (UTC): read them the same way.
process.env.TZ = "UTC"

const fixtures = join(import.meta.dirname, "../../fixtures/codex-exec")

/** The usage-limit message of a captured run (its `turn.failed`). */
const messageOf = (name: string): string => {
  const lines = readFileSync(join(fixtures, `${name}.jsonl`), "utf8")
    .trim()
    .split("\n")
  const failed = JSON.parse(lines.at(-1) ?? "{}") as { error: { message: string } }
  return failed.error.message
}

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["2h", 7_200_000],
    ["1h30m", 5_400_000],
    ["1d", 86_400_000],
    ["45", 45_000],
    ["500ms", 500],
    [" 2H ", 7_200_000],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toStrictEqual(Either.right(ms))
  })

  it.each(["", "abc", "10 minutes", "5x", "-3s", "1h30", "m"])(
    "rejects %j with a clear message",
    (text) => {
      const parsed = parseDuration(text)
      expect(Either.isLeft(parsed)).toBe(true)
      expect(Either.getLeft(parsed).pipe((o) => (o._tag === "Some" ? o.value : ""))).toMatch(
        /Invalid duration .*90s, 10m, 2h/,
      )
    },
  )

  it("formats back", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m")
    expect(formatDuration(43_200_000)).toBe("12h")
  })
})

describe("limits", () => {
  it("flags win over env defaults; max-limit-wait defaults to 12h", () => {
    const env = { CODEX_TASKS_STALL_TIMEOUT: "5m", CODEX_TASKS_TURN_TIMEOUT: "2h" }
    expect(resolveLimits({ stallTimeoutMs: 600_000 }, env)).toStrictEqual(
      Either.right({
        stall_timeout_ms: 600_000,
        turn_timeout_ms: 7_200_000,
        max_limit_wait_ms: DEFAULT_MAX_LIMIT_WAIT_MS,
      }),
    )
  })

  it("a bad env default names the variable", () => {
    const bad = resolveLimits({}, { CODEX_TASKS_MAX_LIMIT_WAIT: "soon" })
    expect(Either.isLeft(bad) && bad.left).toMatch(/^CODEX_TASKS_MAX_LIMIT_WAIT: Invalid duration/)
  })

  it("the budget counts input + output tokens", () => {
    const usage = { input_tokens: 90, output_tokens: 10 }
    expect(budgetSpent({ max_tokens: 100 }, usage)).toBe(true)
    expect(budgetSpent({ max_tokens: 101 }, usage)).toBe(false)
    expect(budgetSpent({}, usage)).toBe(false)
  })
})

describe("the reset time of a usage-limit message (captured texts, TZ unset = UTC)", () => {
  // The captures were made at 2026-12-01T22:22:10Z with resets 90 s, 2 h and 2 days away.
  const captured = Date.UTC(2026, 11, 1, 22, 22, 10)

  it.each([
    ["usage-limit-90", Date.UTC(2026, 11, 1, 22, 23)],
    ["usage-limit-7200", Date.UTC(2026, 11, 2, 0, 22)],
    ["usage-limit-172800", Date.UTC(2026, 11, 3, 22, 22)],
  ])("%s", (name, expected) => {
    const message = messageOf(name)
    expect(resetTimeOf(message, captured)).toBe(expected)
    expect(minutePrecision(message)).toBe(true)
  })

  it("reads the 'in N minutes' wording", () => {
    expect(resetTimeOf("You've hit your usage limit. Try again in 5 minutes.", 1_000)).toBe(
      1_000 + 300_000,
    )
    expect(resetTimeOf("… try again in 1 hour 30 minutes", 0)).toBe(5_400_000)
  })

  it("knows nothing from a message without a time", () => {
    expect(resetTimeOf("You've hit your usage limit.", 0)).toBeUndefined()
  })
})

describe("wakeTime", () => {
  const floor = { floorMs: 30_000, minutePrecision: true }
  it("waits for a reset still ahead, plus jitter up to twice the floor", () => {
    expect(wakeTime(100_000, 40_000, { ...floor, random: 0 })).toBe(100_000)
    expect(wakeTime(100_000, 40_000, { ...floor, random: 1 })).toBe(160_000)
  })
  it("waits at least the floor once the reported minute has begun", () => {
    expect(wakeTime(60_000, 70_000, { ...floor, random: 0 })).toBe(100_000)
  })
  it("an exact reset already past is retried at once", () => {
    expect(wakeTime(60_000, 70_000, { ...floor, minutePrecision: false, random: 0 })).toBe(70_000)
  })
})
