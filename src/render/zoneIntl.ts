/** Time-zone names and wall-clock parts from ICU (`Intl`): the slow path, off the usual one. */

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

/** The parts (`weekday`, `hour`, `timeZoneName`, …) of `millis` formatted in `locale` and `tz`. */
export const partsOf = (
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

// ICU knows a zone's abbreviation (EDT, CEST, IST, AEDT) only in some English locales; where
// none has one, print the offset the way tzdata does (`+0530`, `-03`).
const zoneLocales = ["en-US", "en-GB", "en-IN", "en-AU"]

/** The abbreviation of `tz` (default: the process zone) at `millis` as ICU names it, else its offset. */
export const intlZoneName = (millis: number, tz: string | undefined): string => {
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
