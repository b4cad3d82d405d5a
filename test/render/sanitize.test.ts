import { describe, expect, it } from "vitest"
import { oneLine, stripControls } from "../../src/render/sanitize.js"

describe("stripControls", () => {
  it("removes OSC and CSI sequences, complete or cut off", () => {
    expect(stripControls("a\u001b]0;title\u0007b\u001b]8;;x\u001b\\c\u001b[1;31md\u001b[")).toBe(
      "abcd",
    )
  })
  it("turns CR into a newline and other controls into spaces, keeping tab and newline", () => {
    expect(stripControls("one\r\ntwo\rthree\u0000\u0007\u009b\tfour\n")).toBe(
      "one\ntwo\nthree   \tfour\n",
    )
  })
})

describe("oneLine", () => {
  it("joins lines with one space", () => {
    expect(oneLine("first  \n  second\r\nthird")).toBe("first second third")
  })
})
