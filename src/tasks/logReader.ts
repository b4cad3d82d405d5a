import { closeSync, fstatSync, openSync, readSync, watch } from "node:fs"
import { dirname } from "node:path"
import { Deferred, Effect } from "effect"
import { makeLineSplitter } from "../exec/lines.js"
import { recheckMs } from "./recheck.js"

const CHUNK = 1 << 16

/** How `readLog` reads: the whole file or its last lines, and whether to keep following it. */
export interface ReadLogOptions {
  /** Only the last N lines (read from the end of the file: cost independent of its size). */
  readonly lastLines?: number | undefined
  /** Start at this byte offset (e.g. the size the log had when a prompt was sent). */
  readonly fromOffset?: number | undefined
  /** Keep reading as the file grows; stop once `done` says so (after draining what is there). */
  readonly follow?:
    | { readonly done: Effect.Effect<boolean>; readonly onIdle?: Effect.Effect<void> }
    | undefined
}

/** Statistics of one read (tests use `bytesRead` to prove `-n` reads only the tail). */
export interface ReadLogStats {
  bytesRead: number
}

const openOrUndefined = (path: string): number | undefined => {
  try {
    return openSync(path, "r")
  } catch {
    return undefined
  }
}

/** Byte offset where the last `n` lines of the file start. */
export const tailOffset = (fd: number, size: number, n: number, stats: ReadLogStats): number => {
  if (n <= 0) return size
  const buf = Buffer.alloc(CHUNK)
  let pos = size
  let newlines = 0
  // A final line without "\n" counts as a line; a trailing "\n" does not start a new one.
  let skipTrailing = true
  while (pos > 0) {
    const len = Math.min(CHUNK, pos)
    pos -= len
    readSync(fd, buf, 0, len, pos)
    stats.bytesRead += len
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipTrailing = false
        continue
      }
      if (skipTrailing) {
        skipTrailing = false
        continue
      }
      newlines++
      if (newlines === n) return pos + i + 1
    }
  }
  return 0
}

/**
 * Reads `task.log` line by line (each line without its "\n"), in linear time and in memory bounded
 * by the longest line; a final partial line is held back while following and delivered at the
 * end. With `follow`, waits for the file to grow using file watching (plus a slow re-check,
 * `recheckMs`, for changes a watcher misses).
 */
export const readLog = (
  path: string,
  onLines: (lines: ReadonlyArray<Buffer>) => Effect.Effect<void>,
  options: ReadLogOptions = {},
  stats: ReadLogStats = { bytesRead: 0 },
) => {
  const fdHolder = { close: () => {} }
  return Effect.gen(function* () {
    let fd = openOrUndefined(path)
    fdHolder.close = () => {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    }
    let offset = options.fromOffset ?? 0
    if (fd !== undefined && options.lastLines !== undefined) {
      offset = tailOffset(fd, fstatSync(fd).size, options.lastLines, stats)
    }
    // Lines found by the splitter, handed on after each read. Whole, however long (offsets are
    // computed from their lengths; the worker writes no line over MAX_LINE_BYTES).
    let found: Array<Buffer> = []
    const splitter = makeLineSplitter((line) => void found.push(line), Number.POSITIVE_INFINITY)
    const handOn = Effect.suspend(() => {
      if (found.length === 0) return Effect.void
      const lines = found
      found = []
      return onLines(lines)
    })
    const buf = Buffer.alloc(CHUNK)
    const drain = Effect.gen(function* () {
      if (fd === undefined) fd = openOrUndefined(path)
      if (fd === undefined) return
      for (;;) {
        const n = readSync(fd, buf, 0, CHUNK, offset)
        if (n === 0) return
        offset += n
        stats.bytesRead += n
        splitter.push(buf.subarray(0, n))
        yield* handOn
      }
    })
    const flushRest = Effect.suspend(() => {
      splitter.flush()
      return handOn
    })
    const follow = options.follow
    if (follow === undefined) {
      yield* drain
      return yield* flushRest
    }
    // The watcher exists before each drain, so an append right after a drain is never missed.
    const fallbackMs = recheckMs()
    let wake = yield* Deferred.make<void>()
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        try {
          return watch(dirname(path), () => Deferred.unsafeDone(wake, Effect.void))
        } catch {
          return undefined
        }
      }),
      (w) => Effect.sync(() => w?.close()),
    )
    for (;;) {
      const done = yield* follow.done
      yield* drain
      if (done) return yield* flushRest
      if (follow.onIdle !== undefined) yield* follow.onIdle
      // A worker killed outright writes nothing: the fallback timeout re-checks `done`.
      yield* Deferred.await(wake).pipe(Effect.timeoutOption(fallbackMs))
      wake = yield* Deferred.make<void>()
    }
  }).pipe(Effect.ensuring(Effect.sync(() => fdHolder.close())), Effect.scoped)
}
