/**
 * When a usage limit resets, from codex's message (`/work/shared/codex-exec/INDEX.md` "Usage
 * limit"): "… try again at 10:23 PM." (local time, truncated to the minute, same day), "… try
 * again at Dec 2nd, 2026 12:22 AM." (another day), or "… in 5 minutes" (older wording).
 */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const UNIT_MS: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
}

const AT =
  /try again at (?:([A-Za-z]{3})[a-z]* (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}),? )?(\d{1,2}):(\d{2})\s*([AP]M)?/i
const IN = /(?:try again )?in ((?:\d+\s*(?:second|minute|hour|day)s?[\s,and]*)+)/i
const IN_PART = /(\d+)\s*(second|minute|hour|day)s?/gi

const hours24 = (h: number, ampm: string | undefined) => {
  if (ampm === undefined) return h
  const pm = ampm.toUpperCase() === "PM"
  return (h % 12) + (pm ? 12 : 0)
}

/**
 * The reset time (epoch ms) a usage-limit message names, resolved against `nowMs` in the local
 * time zone (codex's, which the worker shares); undefined when the message names none. A
 * same-day time more than a minute in the past is read as the next day.
 */
export const resetTimeOf = (message: string, nowMs: number): number | undefined => {
  const at = AT.exec(message)
  if (at !== null) {
    const [, mon, day, year, hh, mm, ampm] = at
    const h = hours24(Number(hh), ampm)
    const minute = Number(mm)
    if (mon !== undefined) {
      const month = MONTHS.indexOf(mon.toLowerCase())
      if (month < 0) return undefined
      return new Date(Number(year), month, Number(day), h, minute, 0, 0).getTime()
    }
    const now = new Date(nowMs)
    const today = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, minute, 0, 0)
    if (today.getTime() < nowMs - 60_000) today.setDate(today.getDate() + 1)
    return today.getTime()
  }
  const inText = IN.exec(message)?.[1]
  if (inText === undefined) return undefined
  let total = 0
  for (const m of inText.matchAll(IN_PART)) {
    total += Number(m[1]) * (UNIT_MS[(m[2] ?? "").toLowerCase()] ?? 0)
  }
  return total > 0 ? nowMs + total : undefined
}

/** True when the reset time is only known to the minute (the "at HH:MM" forms). */
export const minutePrecision = (message: string): boolean => AT.test(message)
