import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import { tailOffset } from "./logReader.js"

/** Log bytes one `task_log` call (and the log resource) reads unless told otherwise. */
export const LOG_PAGE_BYTES = 256 * 1024
/** The most `maxBytes` may ask for. */
export const MAX_LOG_PAGE_BYTES = 4 * 1024 * 1024

/** How a line longer than a whole page is returned. */
export type LongLines = "split" | "skip"

/** One page of `task.log`: complete lines, or a piece or the size of a line longer than a page. */
export interface LogPage {
  /** Complete lines (without their "\n"), in order. */
  readonly lines: ReadonlyArray<Buffer>
  /** `split`: the start of a line longer than the page, cut at a UTF-8 character boundary. */
  readonly piece?: Buffer
  /** `skip`: a line longer than the page was stepped over. */
  readonly skipped?: { readonly offset: number; readonly size: number }
  /** Offset after the last byte this page covers: where the next page starts. */
  readonly end: number
  /** The log has bytes after `end` that a next page would return now. */
  readonly hasMore: boolean
}

const CHUNK = 1 << 16

/** Offset of the first "\n" at or after `from`, or -1. Reads chunk by chunk. */
const newlineFrom = (fd: number, from: number, size: number): number => {
  const buf = Buffer.alloc(CHUNK)
  for (let pos = from; pos < size; pos += CHUNK) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos)
    const i = buf.subarray(0, n).indexOf(0x0a)
    if (i !== -1) return pos + i
  }
  return -1
}

/** The start of the line holding the log's last byte. */
const newlineBefore = (fd: number, size: number): number => {
  const buf = Buffer.alloc(CHUNK)
  let pos = size - 1
  while (pos > 0) {
    const len = Math.min(CHUNK, pos)
    readSync(fd, buf, 0, len, pos - len)
    const i = buf.subarray(0, len).lastIndexOf(0x0a)
    if (i !== -1) return pos - len + i + 1
    pos -= len
  }
  return 0
}

/** Length of the longest prefix of `buf` that ends on a UTF-8 character boundary. */
const utf8Prefix = (buf: Buffer): number => {
  let i = buf.length - 1
  while (i > 0 && buf.length - i < 4 && ((buf[i] as number) & 0xc0) === 0x80) i--
  const lead = buf[i] as number
  const width = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1
  return i + width > buf.length ? i : buf.length
}

const withFd = <A>(path: string, empty: A, use: (fd: number, size: number) => A): A => {
  let fd: number | undefined
  try {
    fd = openSync(path, "r")
  } catch {
    return empty
  }
  try {
    return use(fd, fstatSync(fd).size)
  } finally {
    closeSync(fd)
  }
}

/**
 * Reads at most `budget` bytes of the log from `start`. An unterminated last line is a line when
 * `final` (the task no longer runs), else left for a later call. A line longer than `budget` is
 * returned in pieces (`split`) or stepped over with its size (`skip`); either way `end` advances.
 */
export const readPage = (
  path: string,
  start: number,
  budget: number,
  options: { readonly final: boolean; readonly longLines: LongLines },
): LogPage =>
  withFd(path, { lines: [], end: start, hasMore: false }, (fd, size) => {
    if (start >= size) return { lines: [], end: start, hasMore: false }
    const atEof = size - start <= budget
    const buf = Buffer.alloc(Math.min(budget, size - start))
    const n = readSync(fd, buf, 0, buf.length, start)
    const data = buf.subarray(0, n)
    const last = data.lastIndexOf(0x0a)
    if (last !== -1 || atEof) {
      const lines: Array<Buffer> = []
      let from = 0
      for (let nl = data.indexOf(0x0a); nl !== -1 && nl <= last; nl = data.indexOf(0x0a, from)) {
        lines.push(data.subarray(from, nl))
        from = nl + 1
      }
      let end = start + last + 1
      if (atEof && end < start + n && options.final) {
        lines.push(data.subarray(last + 1))
        end = start + n
      }
      return { lines, end, hasMore: !atEof }
    }
    // One line is longer than the whole page.
    if (options.longLines === "split") {
      const piece = data.subarray(0, utf8Prefix(data))
      return { lines: [], piece, end: start + piece.length, hasMore: true }
    }
    const nl = newlineFrom(fd, start + n, size)
    if (nl === -1 && !options.final) return { lines: [], end: start, hasMore: false }
    const end = nl === -1 ? size : nl + 1
    const skipped = { offset: start, size: (nl === -1 ? size : nl) - start }
    return { lines: [], skipped, end, hasMore: end < size }
  })

/**
 * Offset where the last `n` complete lines start (an unterminated last line counts as one when
 * `final`, else it is not counted); 0 when the log does not exist.
 */
export const tailStart = (path: string, n: number, final: boolean): number =>
  withFd(path, 0, (fd, size) => {
    const ends = (() => {
      if (size === 0) return true
      const b = Buffer.alloc(1)
      readSync(fd, b, 0, 1, size - 1)
      return b[0] === 0x0a
    })()
    // tailOffset counts an unterminated last line: one more then, to get n complete ones.
    return tailOffset(fd, size, ends || final ? n : n + 1, { bytesRead: 0 })
  })

/** The start of the first line that begins at or after `size - budget` (the log's last page). */
export const lastPageStart = (path: string, budget: number): number =>
  withFd(path, 0, (fd, size) => {
    if (size <= budget) return 0
    const nl = newlineFrom(fd, size - budget - 1, size)
    return nl === -1 || nl + 1 >= size ? newlineBefore(fd, size) : nl + 1
  })
