import { afterEach, describe, expect, it } from "vitest"
import { TABLES } from "../../src/generated/zoneNames.js"
import { formatTime } from "../../src/render/time.js"
import { plainOffset, tableZoneName } from "../../src/render/zone.js"
import { intlZoneName } from "../../src/render/zoneIntl.js"

// The table of this Node's ICU and tz database; a Node without one asks ICU for every name.
const table = TABLES[`${process.versions.icu} ${process.versions.tz}`]
const fromTable = (name: string) => (table === undefined ? undefined : name)

const savedTz = process.env.TZ
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
})

const at = (iso: string) => Date.parse(iso)

// Instants across DST changes of both hemispheres, a few years apart.
const instants = [
  "2021-03-28T00:30:00Z",
  "2021-03-28T01:30:00Z",
  "2024-01-15T12:00:00Z",
  "2024-07-15T12:00:00Z",
  "2025-04-06T15:59:00Z",
  "2025-04-06T16:01:00Z",
  "2025-10-26T00:59:00Z",
  "2025-10-26T01:01:00Z",
  "2026-11-01T05:59:00Z",
  "2026-11-01T06:01:00Z",
  "2032-12-31T23:59:59Z",
].map(at)

describe("the zone-name table", () => {
  it("names each zone at each instant as ICU does (several TZ values)", () => {
    const zones = [
      "UTC",
      "Etc/UTC",
      "America/New_York",
      "US/Eastern",
      "America/St_Johns",
      "America/Sao_Paulo",
      "Europe/London",
      "Europe/Berlin",
      "Europe/Istanbul",
      "Asia/Kolkata",
      "Asia/Kathmandu",
      "Asia/Tokyo",
      "Australia/Sydney",
      "Australia/Lord_Howe",
      "Pacific/Chatham",
      "Africa/Casablanca",
      "Etc/GMT+5",
    ]
    let asked = 0
    for (const zone of zones) {
      process.env.TZ = zone
      for (const t of instants) {
        // undefined: left to ICU (a zone whose names changed at one offset before that instant)
        const name = tableZoneName(t)
        if (name === undefined) asked++
        else
          expect(`${zone} ${new Date(t).toISOString()} ${name}`).toBe(
            `${zone} ${new Date(t).toISOString()} ${intlZoneName(t, undefined)}`,
          )
      }
    }
    expect(asked).toBeLessThanOrEqual(
      table === undefined ? zones.length * instants.length : instants.length,
    )
  })

  it("knows the abbreviations tzdata and ICU share, and the offset elsewhere", () => {
    const expected: ReadonlyArray<readonly [string, string, string]> = [
      ["America/New_York", "2025-01-12T09:00:00Z", "EST"],
      ["America/New_York", "2025-07-12T09:00:00Z", "EDT"],
      ["Europe/London", "2025-01-12T09:00:00Z", "GMT"],
      ["Europe/London", "2025-07-12T09:00:00Z", "BST"],
      ["Europe/Berlin", "2025-07-12T09:00:00Z", "CEST"],
      ["Asia/Kolkata", "2025-07-12T09:00:00Z", "IST"],
      ["Australia/Sydney", "2025-01-12T09:00:00Z", "AEDT"],
      ["Asia/Kathmandu", "2025-07-12T09:00:00Z", "+0545"],
      ["Asia/Tokyo", "2025-07-12T09:00:00Z", "+09"],
      ["America/Sao_Paulo", "2025-07-12T09:00:00Z", "-03"],
      ["UTC", "2025-07-12T09:00:00Z", "UTC"],
    ]
    for (const [zone, iso, name] of expected) {
      process.env.TZ = zone
      expect(`${zone} ${tableZoneName(at(iso))}`).toBe(`${zone} ${fromTable(name)}`)
    }
  })

  it("leaves to ICU what it cannot tell, and the printed time stays the same", () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      [":Europe/Berlin", "2025-07-05T09:15:02Z", "Sat Jul  5 11:15:02 CEST 2025"],
      ["Europe/Istanbul", "2012-07-05T09:15:02Z", "Thu Jul  5 12:15:02 EEST 2012"],
      ["America/New_York", "2045-07-05T09:15:02Z", "Wed Jul  5 05:15:02 EDT 2045"],
      ["America/New_York", "1995-01-05T09:15:02Z", "Thu Jan  5 04:15:02 EST 1995"],
    ]
    for (const [zone, iso, line] of cases) {
      process.env.TZ = zone
      expect(tableZoneName(at(iso))).toBeUndefined()
      expect(formatTime(iso, "human")).toBe(line)
    }
  })

  it("finds the zone /etc/localtime links to when TZ is unset", () => {
    delete process.env.TZ
    const t = at("2025-07-12T09:00:00Z")
    expect(tableZoneName(t) ?? "left to ICU").toBe(
      fromTable(intlZoneName(t, undefined)) ?? "left to ICU",
    )
  })

  it("agrees with ICU for every zone it lists", () => {
    const zones = Object.values(table ?? {}).flatMap((zs) => zs.split(" "))
    const times = ["2025-01-15T12:00:00Z", "2025-07-15T12:00:00Z", "2031-03-01T12:00:00Z"].map(at)
    const wrong: Array<string> = []
    let known = 0
    for (const zone of zones) {
      process.env.TZ = zone
      for (const t of times) {
        const name = tableZoneName(t)
        if (name === undefined) continue
        known++
        if (name !== intlZoneName(t, undefined)) wrong.push(`${zone} ${t} ${name}`)
      }
    }
    expect(wrong).toEqual([])
    expect(known).toBeGreaterThan(zones.length * times.length * 0.95)
  })

  it.skipIf(table === undefined)(
    "formats local times without building an Intl.DateTimeFormat",
    () => {
      const Original = Intl.DateTimeFormat
      try {
        Intl.DateTimeFormat = (() => {
          throw new Error("Intl.DateTimeFormat built")
        }) as unknown as typeof Intl.DateTimeFormat
        process.env.TZ = "Australia/Adelaide"
        const line = formatTime("2025-01-12T09:15:02Z", "human")
        process.env.TZ = "America/Chicago"
        expect([line, formatTime("2025-07-12T09:15:02Z", "human")]).toEqual([
          "Sun Jan 12 19:45:02 ACDT 2025",
          "Sat Jul 12 04:15:02 CDT 2025",
        ])
      } finally {
        Intl.DateTimeFormat = Original
      }
    },
  )

  it("prints an offset without abbreviation as tzdata does", () => {
    expect([0, 330, 345, -180, 600, -570, 765].map(plainOffset)).toEqual([
      "GMT",
      "+0530",
      "+0545",
      "-03",
      "+10",
      "-0930",
      "+1245",
    ])
  })
})
