import { describe, expect, it } from "vitest"
import { renderTable, sanitizeCell } from "../../src/render/table.js"

describe("renderTable", () => {
  it("aligns columns with two spaces and leaves no trailing spaces", () => {
    const out = renderTable(
      ["ID", "Title", "State"],
      [
        ["a1", "short", "RUNNING"],
        ["b22222", "a much longer title", "-"],
      ],
    )
    expect(out).toBe(
      [
        "ID      Title                State",
        "a1      short                RUNNING",
        "b22222  a much longer title  -",
      ].join("\n"),
    )
  })

  it("keeps a title with tabs and newlines on its own row", () => {
    const out = renderTable(
      ["ID", "Title", "State"],
      [["x", "one\ttwo\nthree\r\u001b[31m", "STOPPED"]],
    )
    const lines = out.split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[1]).toBe("x   one two three [31m  STOPPED")
    expect(lines[0]?.indexOf("State")).toBe(lines[1]?.indexOf("STOPPED"))
  })

  it("pads short rows and never ends a line with spaces", () => {
    const out = renderTable(["A", "B", "C"], [["1"], ["22", "", "3"]])
    expect(out).toBe("A   B  C\n1\n22     3")
  })
})

describe("sanitizeCell", () => {
  it("turns control characters into spaces and trims", () => {
    expect(sanitizeCell("\ta\u0000b\u2028c\n")).toBe("a b c")
  })
})
