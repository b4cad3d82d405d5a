import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { CHUNK_BYTES, readChunk } from "../../src/cluster/logChunk.js"

// What `log --cluster` reads from the host: raw bytes from an offset, or from the last N lines.
const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const logWith = (content: string | Buffer) => {
  const dir = mkdtempSync(join(tmpdir(), "ct-logchunk-"))
  dirs.push(dir)
  const path = join(dir, "task.log")
  writeFileSync(path, content)
  return path
}
const text = (c: { bytes: Uint8Array }) => Buffer.from(c.bytes).toString("utf8")

describe("readChunk", () => {
  it("reads from an offset to the end, and nothing past the end", async () => {
    const path = logWith('{"a":1}\n{"b":2}\n')
    const all = await Effect.runPromise(readChunk(path, 0, undefined))
    expect(text(all)).toBe('{"a":1}\n{"b":2}\n')
    expect(all.next).toBe(16)
    const rest = await Effect.runPromise(readChunk(path, 8, undefined))
    expect(text(rest)).toBe('{"b":2}\n')
    const none = await Effect.runPromise(readChunk(path, 16, undefined))
    expect(none).toEqual({ bytes: new Uint8Array(0), next: 16 })
  })

  it("starts at the last N lines (a final newline ends a line; a torn last line counts)", async () => {
    const path = logWith("one\ntwo\nthree\n")
    expect(text(await Effect.runPromise(readChunk(path, 0, 2)))).toBe("two\nthree\n")
    expect(text(await Effect.runPromise(readChunk(path, 0, 9)))).toBe("one\ntwo\nthree\n")
    expect(text(await Effect.runPromise(readChunk(path, 0, 0)))).toBe("")
    const torn = logWith("one\ntwo\nthr")
    expect(text(await Effect.runPromise(readChunk(torn, 0, 1)))).toBe("thr")
  })

  it("finds the last lines across read blocks, and caps a chunk (the client asks again)", async () => {
    const line = `${"x".repeat(99)}\n`
    const path = logWith(line.repeat(30_000)) // 3 MB
    const tail = await Effect.runPromise(readChunk(path, 0, 1_000))
    expect(tail.bytes.length).toBe(100_000)
    expect(tail.next).toBe(3_000_000)
    const first = await Effect.runPromise(readChunk(path, 0, undefined))
    expect(first.bytes.length).toBe(CHUNK_BYTES)
    const second = await Effect.runPromise(readChunk(path, first.next, undefined))
    expect(second.next).toBe(Math.min(3_000_000, 2 * CHUNK_BYTES))
  })

  it("treats a log that does not exist yet as empty", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ct-logchunk-")), "task.log")
    dirs.push(join(path, ".."))
    expect(await Effect.runPromise(readChunk(path, 0, 5))).toEqual({
      bytes: new Uint8Array(0),
      next: 0,
    })
  })
})
