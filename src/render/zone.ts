/**
 * The process zone's name at an instant without ICU: `zoneNames.ts` holds, per zone, the name
 * `intlZoneName` gives each offset it uses, and `Date` gives the offset. Building the first
 * `Intl.DateTimeFormat` of a process costs 15–30 ms, most of a read-only command's run time.
 */
import { readlinkSync } from "node:fs"
import { FROM, TABLES, TO } from "../generated/zoneNames.js"

interface ZoneTable {
  readonly from: number
  readonly names: ReadonlyMap<string, string>
}

const tables = new Map<string, ZoneTable | undefined>()
// Names depend on ICU's data and offsets on the tz database: a Node without its table asks ICU.
const GROUPS: Readonly<Record<string, string>> =
  TABLES[`${process.versions.icu} ${process.versions.tz}`] ?? {}

const tableOf = (zone: string): ZoneTable | undefined => {
  if (tables.has(zone)) return tables.get(zone)
  let table: ZoneTable | undefined
  for (const [key, zones] of Object.entries(GROUPS)) {
    if (!` ${zones} `.includes(` ${zone} `)) continue
    let from = FROM
    const names = new Map<string, string>()
    for (const token of key.split(" ")) {
      if (token.startsWith("@")) from = Number(token.slice(1))
      else {
        const [k = "", name] = token.split("=")
        names.set(k, name ?? plainOffset(Number.parseInt(k, 10)))
      }
    }
    table = { from, names }
    break
  }
  tables.set(zone, table)
  return table
}

/** An offset (minutes east of UTC) the way tzdata names a zone that has no abbreviation. */
export const plainOffset = (minutes: number): string => {
  if (minutes === 0) return "GMT"
  const a = Math.abs(minutes)
  const mm = a % 60 === 0 ? "" : String(a % 60).padStart(2, "0")
  return `${minutes < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}${mm}`
}

// The zone ICU takes for the process: a `TZ` that is a zone name, else what /etc/localtime links
// to. Anything else (`:Zone`, a path, a POSIX rule, a copied file) is left to ICU itself.
const zoneIds = new Map<string, string | undefined>()
const processZone = (): string | undefined => {
  const tz = process.env.TZ
  const key = tz ?? "\0"
  if (zoneIds.has(key)) return zoneIds.get(key)
  let zone: string | undefined
  if (tz !== undefined) zone = /^[A-Za-z][\w+\-/]*$/.test(tz) ? tz : undefined
  else {
    try {
      const target = readlinkSync("/etc/localtime")
      const at = target.lastIndexOf("zoneinfo/")
      zone = at < 0 ? undefined : target.slice(at + "zoneinfo/".length)
    } catch {
      zone = undefined
    }
  }
  zoneIds.set(key, zone)
  return zone
}

const offsetAt = (millis: number) => -new Date(millis).getTimezoneOffset()

/**
 * The table's key for the process zone at `millis`: the offset (minutes east of UTC), with `d`
 * when it is more than the lesser offset of 1 January and 1 July of the (UTC) year.
 */
export const offsetKey = (millis: number): string => {
  const year = new Date(millis).getUTCFullYear()
  const std = Math.min(offsetAt(Date.UTC(year, 0, 1)), offsetAt(Date.UTC(year, 6, 1)))
  const offset = offsetAt(millis)
  return offset > std ? `${offset}d` : `${offset}`
}

/**
 * The process zone's name at `millis` from the table, or undefined when the table cannot tell
 * (a zone it does not know, an instant outside it, an offset it has not seen there).
 */
export const tableZoneName = (millis: number): string | undefined => {
  const zone = processZone()
  if (zone === undefined || millis >= TO) return undefined
  const table = tableOf(zone)
  if (table === undefined || millis < table.from) return undefined
  return table.names.get(offsetKey(millis))
}
