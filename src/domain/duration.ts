/**
 * Durations as users type them: `90s`, `10m`, `2h`, `1d`, combinations (`1h30m`), and a bare
 * number of seconds (`45`). Parsed to milliseconds, at most `MAX_DURATION_MS`; anything else is a
 * clear error.
 */
import { Either, Option } from "effect"

/** The longest duration any option takes: 365 days (README "Limits and usage-limit waits"). */
export const MAX_DURATION_MS = 365 * 86_400_000

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy

/** Milliseconds of `text` (`90s`, `10m`, `2h`, `1h30m`, `45` = 45 s), or why it is not one. */
export const parseDuration = (text: string): Either.Either<number, string> => {
  const s = text.trim().toLowerCase()
  const bad = Either.left(
    `Invalid duration ${JSON.stringify(text)}: expected a number with a unit, like 90s, 10m, 2h or 1h30m (a bare number is seconds).`,
  )
  if (s === "") return bad
  if (/^\d+(?:\.\d+)?$/.test(s)) return atMostMax(text, Math.round(Number(s) * 1_000))
  PART.lastIndex = 0
  let total = 0
  let end = 0
  for (let m = PART.exec(s); m !== null; m = PART.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1_000)
    end = PART.lastIndex
  }
  if (end !== s.length) return bad
  return atMostMax(text, Math.round(total))
}

const atMostMax = (text: string, ms: number): Either.Either<number, string> =>
  ms <= MAX_DURATION_MS
    ? Either.right(ms)
    : Either.left(
        `Duration ${JSON.stringify(text)} is too long: at most ${formatDuration(MAX_DURATION_MS)}.`,
      )

/** `ms` as the shortest `1h30m`-style text (`0s` for zero). */
export const formatDuration = (ms: number): string => {
  if (ms <= 0) return "0s"
  let rest = Math.round(ms / 1_000)
  const parts: Array<string> = []
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
  }
  return parts.length === 0 ? `${ms}ms` : parts.join("")
}

/** Why `seconds` is no `--timeout SECONDS` (whole, 0 to `MAX_DURATION_MS`), or none. */
export const timeoutSecondsProblem = (seconds: number): Option.Option<string> =>
  Number.isInteger(seconds) && seconds >= 0 && seconds * 1_000 <= MAX_DURATION_MS
    ? Option.none()
    : Option.some(
        `--timeout must be a whole number of seconds from 0 to ${MAX_DURATION_MS / 1_000} (365 days): ${seconds}`,
      )
