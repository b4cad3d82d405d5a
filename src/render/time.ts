/** Timestamps for humans (`date`-like local time) and machines (UTC RFC 3339 with ms). */
import { timestampMillis } from "../domain/task.js"

/** How `status` / `ls` print times (`--time-format`). */
export type TimeFormat = "human" | "iso"

const formatters = new Map<string, Intl.DateTimeFormat>()

// Keyed by the zone asked for, or the process TZ at the time of the call: assigning
// `process.env.TZ` changes Node's default zone, so a cached default formatter would go stale.
const formatterFor = (
  locale: string,
  tz: string | undefined,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat => {
  const key = `${locale} ${tz ?? `default:${process.env.TZ ?? ""}`} ${options.timeZoneName ?? ""}`
  const cached = formatters.get(key)
  if (cached !== undefined) return cached
  const formatter = new Intl.DateTimeFormat(locale, {
    ...(tz === undefined ? {} : { timeZone: tz }),
    ...options,
  })
  formatters.set(key, formatter)
  return formatter
}

const partsOf = (
  locale: string,
  tz: string | undefined,
  options: Intl.DateTimeFormatOptions,
  millis: number,
): Record<string, string> => {
  const parts: Record<string, string> = {}
  for (const part of formatterFor(locale, tz, options).formatToParts(millis)) {
    parts[part.type] = part.value
  }
  return parts
}

const dateParts: Intl.DateTimeFormatOptions = {
  weekday: "short",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  year: "numeric",
}

// ICU knows a zone's abbreviation (EDT, CEST, IST, AEDT) only in some English locales; where
// none has one, print the offset the way tzdata does (`+0530`, `-03`).
const zoneLocales = ["en-US", "en-GB", "en-IN", "en-AU"]
const zoneName = (millis: number, tz: string | undefined): string => {
  let offset = "GMT"
  for (const locale of zoneLocales) {
    const name = partsOf(locale, tz, { timeZoneName: "short" }, millis).timeZoneName ?? "GMT"
    if (name === "UTC" || !name.startsWith("GMT") || (name === "GMT" && locale === "en-GB")) {
      return name
    }
    offset = name
  }
  const m = /^GMT([+-])(\d{1,2})(?::(\d{2}))?$/.exec(offset)
  if (m === null) return offset
  const hours = (m[2] ?? "").padStart(2, "0")
  return `${m[1]}${hours}${m[3] ?? ""}`
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const pad2 = (n: number) => String(n).padStart(2, "0")
const zoneNames = new Map<string, string>()

// The process's own zone through Date's local getters: `ls` formats two times per task, and
// Intl's formatToParts is by far the slowest part of listing 10,000 tasks. Only the zone's name
// needs Intl, and it is the same for every time with the same offset.
const humanLocal = (millis: number): string => {
  const d = new Date(millis)
  const key = `${process.env.TZ ?? ""} ${d.getTimezoneOffset()}`
  let zone = zoneNames.get(key)
  if (zone === undefined) {
    zone = zoneName(millis, undefined)
    zoneNames.set(key, zone)
  }
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  const day = String(d.getDate()).padStart(2, " ")
  return `${WEEKDAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${time} ${zone} ${d.getFullYear()}`
}

// `date`'s default format: `%a %b %e %H:%M:%S %Z %Y` (day of month padded with a space).
const human = (millis: number, tz: string | undefined): string => {
  if (tz === undefined) return humanLocal(millis)
  const p = partsOf("en-US", tz, dateParts, millis)
  const day = (p.day ?? "").padStart(2, " ")
  const time = `${p.hour}:${p.minute}:${p.second}`
  return `${p.weekday} ${p.month} ${day} ${time} ${zoneName(millis, tz)} ${p.year}`
}

/**
 * An RFC 3339 timestamp as `iso` (UTC, milliseconds) or `human` (local time in `tz`, default the
 * process TZ, like `date` prints it); anything unreadable comes back unchanged.
 */
export const formatTime = (ts: string, format: TimeFormat, tz?: string): string => {
  const millis = timestampMillis(ts)
  if (Number.isNaN(millis)) return ts
  try {
    return format === "iso" ? new Date(millis).toISOString() : human(millis, tz)
  } catch {
    // an out-of-range date or an unknown time zone
    return ts
  }
}
