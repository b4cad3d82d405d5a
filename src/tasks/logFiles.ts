/**
 * The files a task's `file_change` items touched, read from its `task.log` in bounded memory: the
 * last turn's (for `status`: found by reading backwards from the end, so the cost follows the last
 * turn, not the log) or every turn's (for `diff`).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import { isItemEvent, isUnknownItem } from "../domain/events.js"
import { decodeLine } from "../exec/decode.js"
import { DECODE_CAP_BYTES, makeLineSplitter } from "../exec/lines.js"
import type { ReadLogStats } from "./logReader.js"

/** Where a prompt's turn starts: its `user_message` entry (domain/logEntries.ts). */
const TURN_MARK = Buffer.from('{"type":"user_message"')
const FILE_CHANGE = Buffer.from('"file_change"')
/** The first backward read; each further one doubles, up to `MAX_CHUNK`. */
const FIRST_CHUNK = 64 * 1024
const MAX_CHUNK = 4 * 1024 * 1024
/** The forward scan's reads. */
const SCAN_CHUNK = 1024 * 1024

/** Offset of the last `user_message` entry before `size`, or -1; reads backwards in chunks. */
const lastTurnStart = (fd: number, size: number, stats: ReadLogStats): number => {
  let end = size
  let length = FIRST_CHUNK
  let buf = Buffer.allocUnsafe(0)
  while (end > 0) {
    const start = Math.max(0, end - length)
    if (buf.length < end - start) buf = Buffer.allocUnsafe(end - start)
    const n = readFully(fd, buf.subarray(0, end - start), start, stats)
    const at = buf.subarray(0, n).lastIndexOf(TURN_MARK)
    if (at !== -1) return start + at
    if (start === 0) return -1
    // The next read overlaps this one by a mark's length less one: a mark across the boundary.
    end = start + TURN_MARK.length - 1
    length = Math.min(length * 2, MAX_CHUNK)
  }
  return -1
}

const readFully = (fd: number, buf: Buffer, position: number, stats: ReadLogStats): number => {
  let got = 0
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got)
    if (n === 0) break
    got += n
  }
  stats.bytesRead += got
  return got
}

/**
 * The paths of the `file_change` items between `from` and `size`, line by line through a 1 MiB
 * buffer. A line over the decoding cap is not held (nor parsed): no file_change item is that long.
 */
const scanFileChanges = (fd: number, from: number, size: number, stats: ReadLogStats) => {
  const seen = new Set<string>()
  const splitter = makeLineSplitter((line, lineSize) => {
    if (lineSize > line.length || line.indexOf(FILE_CHANGE) === -1) return
    const decoded = decodeLine(line.toString("utf8"))
    if (decoded._tag !== "Event" || !isItemEvent(decoded.event)) return
    const { item } = decoded.event
    if (isUnknownItem(item) || item.type !== "file_change") return
    for (const c of item.changes) seen.add(c.path)
  }, DECODE_CAP_BYTES)
  const buf = Buffer.allocUnsafe(SCAN_CHUNK)
  for (let at = from; at < size; ) {
    const n = readSync(fd, buf, 0, Math.min(SCAN_CHUNK, size - at), at)
    if (n === 0) break
    stats.bytesRead += n
    at += n
    splitter.push(buf.subarray(0, n))
  }
  splitter.flush()
  return [...seen]
}

const withLog = <A>(logPath: string, fallback: A, f: (fd: number, size: number) => A): A => {
  let fd: number | undefined
  try {
    fd = openSync(logPath, "r")
    return f(fd, fstatSync(fd).size)
  } catch {
    return fallback
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The paths of the `file_change` items in a `task.log`, over every turn. */
export const fileChangesOf = (
  logPath: string,
  stats: ReadLogStats = { bytesRead: 0 },
): ReadonlyArray<string> => withLog(logPath, [], (fd, size) => scanFileChanges(fd, 0, size, stats))

/**
 * The files the last prompt's turn changed: from its `user_message` entry in `task.log` on (the
 * whole log when it has none, as before). `stats` counts the
 * bytes read.
 */
export const lastTurnFiles = (
  logPath: string,
  stats: ReadLogStats = { bytesRead: 0 },
): ReadonlyArray<string> =>
  withLog(logPath, [], (fd, size) =>
    scanFileChanges(fd, Math.max(lastTurnStart(fd, size, stats), 0), size, stats),
  )
