import { afterEach, describe, expect, it } from "vitest"
import { formatTime } from "../../src/render/time.js"

const savedTz = process.env.TZ
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
})

describe("formatTime iso", () => {
  it("normalises to UTC with milliseconds, whatever the precision and offset", () => {
    expect(formatTime("2025-10-12T09:15:02.412Z", "iso")).toBe("2025-10-12T09:15:02.412Z")
    expect(formatTime("2025-10-12T09:15:02Z", "iso")).toBe("2025-10-12T09:15:02.000Z")
    expect(formatTime("2025-10-12T09:15:02.4Z", "iso")).toBe("2025-10-12T09:15:02.400Z")
    expect(formatTime("2025-10-12T11:15:02.412987654+02:00", "iso")).toBe(
      "2025-10-12T09:15:02.412Z",
    )
    expect(formatTime("2025-10-12T04:15:02.412345-05:00", "iso")).toBe("2025-10-12T09:15:02.412Z")
  })

  it("returns what it cannot read unchanged", () => {
    expect(formatTime("yesterday", "iso")).toBe("yesterday")
    expect(formatTime("2025-10-12", "human")).toBe("2025-10-12")
    expect(formatTime("", "human")).toBe("")
  })
})

describe("formatTime human", () => {
  it("prints like `date` in the process time zone (UTC)", () => {
    process.env.TZ = "UTC"
    expect(formatTime("2025-10-12T09:15:02.412Z", "human")).toBe("Sun Oct 12 09:15:02 UTC 2025")
    expect(formatTime("2025-10-05T00:00:00+02:00", "human")).toBe("Sat Oct  4 22:00:00 UTC 2025")
  })

  it("prints like `date` in the process time zone (America/New_York)", () => {
    process.env.TZ = "America/New_York"
    expect(formatTime("2025-10-12T09:15:02.412Z", "human")).toBe("Sun Oct 12 05:15:02 EDT 2025")
    expect(formatTime("2025-01-12T09:15:02Z", "human")).toBe("Sun Jan 12 04:15:02 EST 2025")
  })

  it("uses an explicit zone over the process one, with tzdata's name or offset", () => {
    process.env.TZ = "UTC"
    expect(formatTime("2025-07-05T09:15:02Z", "human", "Europe/Berlin")).toBe(
      "Sat Jul  5 11:15:02 CEST 2025",
    )
    expect(formatTime("2025-07-05T09:15:02Z", "human", "Asia/Kathmandu")).toBe(
      "Sat Jul  5 15:00:02 +0545 2025",
    )
    expect(formatTime("2025-07-05T09:15:02Z", "human", "No/Such_Zone")).toBe("2025-07-05T09:15:02Z")
  })
})
