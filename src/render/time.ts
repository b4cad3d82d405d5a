/** Timestamps for humans (`date`-like local time) and machines (UTC RFC 3339 with ms). */
import { timestampMillis } from "../domain/task.js"
import { tableZoneName } from "./zone.js"
import { intlZoneName, partsOf } from "./zoneIntl.js"

/** How `status` / `ls` print times (`--time-format`). */
export type TimeFormat = "human" | "iso"

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

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const pad2 = (n: number) => String(n).padStart(2, "0")

// The process's own zone through Date's local getters and the zone-name table (no Intl: building
// the first formatter costs more than listing 100 tasks). ICU answers only what the table cannot.
const humanLocal = (millis: number): string => {
  const d = new Date(millis)
  const zone = tableZoneName(millis) ?? intlZoneName(millis, undefined)
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
  return `${p.weekday} ${p.month} ${day} ${time} ${intlZoneName(millis, tz)} ${p.year}`
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
