/**
 * A task's `task.log` read in chunks for a client on another machine: raw bytes from an offset
 * (so `log --json` there is byte-exact), or from the start of the last N lines.
 */
import { open, stat } from "node:fs/promises"
import { Effect } from "effect"

/** The most a chunk carries (a client asks again for the rest). */
export const CHUNK_BYTES = 1 << 20
const BLOCK = 64 * 1024

const sizeOf = (path: string) =>
  Effect.promise(() =>
    stat(path).then(
      (s) => s.size,
      () => 0,
    ),
  )

/** Where the last `n` lines of the first `size` bytes of `path` begin. */
const tailStart = (path: string, size: number, n: number) =>
  Effect.promise(async () => {
    if (n <= 0 || size === 0) return size
    const file = await open(path, "r")
    try {
      let end = size
      // A final newline ends the last line; it does not start another.
      let newlines = 0
      let skipLast = true
      while (end > 0) {
        const start = Math.max(0, end - BLOCK)
        const buf = Buffer.alloc(end - start)
        await file.read(buf, 0, buf.length, start)
        for (let i = buf.length - 1; i >= 0; i--) {
          if (buf[i] !== 0x0a) {
            skipLast = false
            continue
          }
          if (skipLast) {
            skipLast = false
            continue
          }
          newlines++
          if (newlines === n) return start + i + 1
        }
        end = start
      }
      return 0
    } finally {
      await file.close()
    }
  })

/** Up to `CHUNK_BYTES` of `path` from `offset` (or from its last `lastLines` lines, at offset 0). */
export const readChunk = (path: string, offset: number, lastLines: number | undefined) =>
  Effect.gen(function* () {
    const size = yield* sizeOf(path)
    const from =
      offset === 0 && lastLines !== undefined ? yield* tailStart(path, size, lastLines) : offset
    if (from >= size) return { bytes: new Uint8Array(0), next: from }
    const length = Math.min(CHUNK_BYTES, size - from)
    const bytes = yield* Effect.promise(async () => {
      const file = await open(path, "r")
      try {
        const buf = Buffer.alloc(length)
        const { bytesRead } = await file.read(buf, 0, length, from)
        return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead)
      } finally {
        await file.close()
      }
    })
    return { bytes, next: from + bytes.length }
  })

/** Waits until `path` grows past `offset`, `running` turns false, or `waitMs` passed. */
export const waitForGrowth = (
  path: string,
  offset: number,
  running: Effect.Effect<boolean, unknown>,
  waitMs: number,
) =>
  Effect.gen(function* () {
    const deadline = Date.now() + waitMs
    let checks = 0
    while (Date.now() < deadline) {
      if ((yield* sizeOf(path)) > offset) return
      // The state costs more than a stat: look at it every 500 ms.
      if (checks++ % 5 === 0 && !(yield* Effect.orElseSucceed(running, () => false))) return
      yield* Effect.sleep(100)
    }
  })
