import { describe, expect, it } from "vitest"
import { colorEnabled, makeStyle } from "../../src/render/style.js"

const tty = { isTTY: true }

describe("colorEnabled", () => {
  it("colours a TTY only", () => {
    expect(colorEnabled(tty, {})).toBe(true)
    expect(colorEnabled({ isTTY: false }, {})).toBe(false)
    expect(colorEnabled({}, {})).toBe(false)
  })

  it("never colours with a non-empty NO_COLOR or TERM=dumb", () => {
    expect(colorEnabled(tty, { NO_COLOR: "1" })).toBe(false)
    expect(colorEnabled(tty, { NO_COLOR: "" })).toBe(true)
    expect(colorEnabled(tty, { TERM: "dumb" })).toBe(false)
    expect(colorEnabled(tty, { TERM: "xterm-256color" })).toBe(true)
  })
})

describe("makeStyle", () => {
  it("wraps each line in escape codes when enabled and changes nothing otherwise", () => {
    expect(makeStyle(true).red("a\nb")).toBe("\u001b[31ma\u001b[39m\n\u001b[31mb\u001b[39m")
    expect(makeStyle(true).bold("x")).toBe("\u001b[1mx\u001b[22m")
    expect(makeStyle(false).red("a\nb")).toBe("a\nb")
  })
})
