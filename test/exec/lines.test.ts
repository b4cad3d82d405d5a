import { describe, expect, it } from "vitest"
import { decodeLineBytes } from "../../src/exec/decode.js"
import { DECODE_CAP_BYTES, makeLineSplitter } from "../../src/exec/lines.js"

/** Feeds `chunks` (copied into one reused buffer, as the log reader does) and flushes. */
const split = (chunks: ReadonlyArray<string | Buffer>, maxLineBytes?: number) => {
  const lines: Array<{ text: string; size: number }> = []
  const splitter = makeLineSplitter(
    (bytes, size) => lines.push({ text: bytes.toString("latin1"), size }),
    maxLineBytes,
  )
  const reused = Buffer.alloc(1 << 16)
  for (const chunk of chunks) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk
    for (let at = 0; at < bytes.length; at += reused.length) {
      const n = bytes.copy(reused, 0, at, at + reused.length)
      splitter.push(reused.subarray(0, n))
      reused.fill(0x21, 0, n) // a caller reusing its buffer must not change lines already reported
    }
  }
  splitter.flush()
  return lines
}
const texts = (chunks: ReadonlyArray<string | Buffer>) => split(chunks).map((l) => l.text)

/** `text` cut into pieces of the given sizes, cycling. */
const pieces = (text: string, sizes: ReadonlyArray<number>): Array<string> => {
  const out: Array<string> = []
  for (let at = 0, i = 0; at < text.length; i++) {
    const n = sizes[i % sizes.length] as number
    out.push(text.slice(at, at + n))
    at += n
  }
  return out
}

describe("makeLineSplitter", () => {
  it("joins a line split over many chunks, whatever the chunk sizes", () => {
    const long = "x".repeat(140_000) // spans three 64 KiB chunks
    const text = `first\n${long}\nshort\n\nlast\n`
    for (const sizes of [[1], [7, 3, 1], [65_536], [65_535, 2], [100_000]]) {
      expect(texts(pieces(text, sizes)), `chunk sizes ${sizes}`).toEqual([
        "first",
        long,
        "short",
        "",
        "last",
      ])
    }
  })

  it("a \\n at the end of a chunk ends the line there, with no empty line after it", () => {
    expect(texts(["one\n", "two\n", "\n", "three\n"])).toEqual(["one", "two", "", "three"])
    expect(texts(["a\nb\n"])).toEqual(["a", "b"])
  })

  it("keeps CR bytes (CRLF stays CRLF minus the LF) and any other byte", () => {
    const bytes = Buffer.from([0x61, 0x0d, 0x0a, 0xff, 0x00, 0xc3, 0x0d, 0x0a])
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 7), bytes.subarray(7)])).toEqual([
      { text: "a\r", size: 2 },
      { text: "\xff\x00\xc3\r", size: 4 },
    ])
  })

  it("reports a final line without \\n on flush, and nothing when there is none", () => {
    expect(texts(["one\ntw", "o"])).toEqual(["one", "two"])
    expect(texts(["one\n"])).toEqual(["one"])
    expect(texts([])).toEqual([])
  })

  it("keeps at most maxLineBytes of a line and reports its whole size", () => {
    expect(split(["abcdefghij\nxyz\n"], 4)).toEqual([
      { text: "abcd", size: 10 },
      { text: "xyz", size: 3 },
    ])
    expect(split(pieces("abcdefghij\n", [3]), 4)).toEqual([{ text: "abcd", size: 10 }])
  })
})

describe("decodeLineBytes and the 8 MiB decoding cap", () => {
  /** An agent_message line of exactly `size` bytes. */
  const lineOf = (size: number) => {
    const head = '{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"'
    return Buffer.from(`${head}${"y".repeat(size - head.length - 3)}"}}`)
  }

  it("decodes a line of exactly the cap", () => {
    const bytes = lineOf(DECODE_CAP_BYTES)
    expect(bytes.length).toBe(8 * 1024 * 1024)
    const line = decodeLineBytes(bytes)
    expect(line._tag).toBe("Event")
    expect(line._tag === "Event" && line.raw.length).toBe(DECODE_CAP_BYTES)
  })

  it("does not decode a line one byte over it: a RawLine saying why", () => {
    expect(decodeLineBytes(lineOf(DECODE_CAP_BYTES + 1))).toEqual({
      _tag: "RawLine",
      raw: "",
      reason: "line of 8,388,609 bytes is over the 8 MiB decoding cap",
    })
  })

  it("says when only the start of a longer line was kept", () => {
    expect(decodeLineBytes(Buffer.alloc(10), 67_108_864)).toEqual({
      _tag: "RawLine",
      raw: "",
      reason:
        "line of 67,108,864 bytes is over the 8 MiB decoding cap; only its first 10 bytes were kept",
    })
  })
})
