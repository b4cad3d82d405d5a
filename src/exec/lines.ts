/**
 * Splitting a byte stream into lines in linear time, shared by the exec client (codex's stdout and
 * stderr) and the log reader (`task.log`). The pieces of a line that spans chunks are kept in a
 * list and concatenated once, when its `\n` arrives, so a 64 MiB line costs one copy instead of
 * one per 64 KiB chunk.
 */

/** Lines longer than this are kept byte for byte but never decoded (`JSON.parse`, rendering). */
export const DECODE_CAP_BYTES = 8 * 1024 * 1024

/**
 * The most bytes of one line held in memory (a bound on a runaway line, far above anything codex
 * prints); the rest of a longer line is counted but dropped.
 */
export const MAX_LINE_BYTES = 256 * 1024 * 1024

const MIB = 1024 * 1024
const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",")

/** True when a line of `size` bytes is over the decoding cap. */
export const isOverCap = (size: number): boolean => size > DECODE_CAP_BYTES

/** Why a line of `size` bytes (of which `kept` were kept) is not decoded. */
export const overCapReason = (size: number, kept: number = size): string =>
  `line of ${grouped(size)} bytes is over the ${DECODE_CAP_BYTES / MIB} MiB decoding cap` +
  (kept < size ? `; only its first ${grouped(kept)} bytes were kept` : "")

/** Receives each line (without its `\n`, CR kept) as a buffer of its own. */
export type OnLine = (bytes: Buffer, size: number) => void

/** A stateful splitter: feed it chunks, then `flush` the last line (one without `\n`). */
export interface LineSplitter {
  /** Splits `chunk` (which the caller may reuse afterwards) and reports every completed line. */
  readonly push: (chunk: Buffer) => void
  /** Reports the pending bytes as a last line, if there are any. */
  readonly flush: () => void
}

/**
 * A splitter calling `onLine(bytes, size)` per line: `size` is the line's length and equals
 * `bytes.length` unless the line was longer than `maxLineBytes` (then `bytes` is its start).
 */
export const makeLineSplitter = (onLine: OnLine, maxLineBytes = MAX_LINE_BYTES): LineSplitter => {
  let parts: Array<Buffer> = []
  let held = 0
  let size = 0

  const take = (piece: Buffer) => {
    size += piece.length
    const room = maxLineBytes - held
    if (piece.length === 0 || room <= 0) return
    // A copy: the caller may reuse its chunk, and a slice would pin all of it.
    parts.push(Buffer.from(piece.length <= room ? piece : piece.subarray(0, room)))
    held += Math.min(piece.length, room)
  }
  const emit = () => {
    const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, held)
    const lineSize = size
    parts = []
    held = 0
    size = 0
    onLine(bytes, lineSize)
  }

  return {
    push: (chunk) => {
      let start = 0
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        take(chunk.subarray(start, nl))
        emit()
        start = nl + 1
      }
      if (start < chunk.length) take(chunk.subarray(start))
    },
    flush: () => {
      if (size > 0) emit()
    },
  }
}
