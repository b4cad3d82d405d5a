import { lstat, open, readFile, unlink } from "node:fs/promises"
import { dirname, join } from "node:path"
import { Effect } from "effect"
import { ensurePrivateDir } from "./atomic.js"
import { errnoCode, type StoreError, storeError } from "./errors.js"
import {
  isFlat,
  TASK_JSON,
  TASK_LOG,
  TASK_PID,
  TASK_PIPE,
  TASK_RESULT,
  type TaskLocation,
  taskPaths,
} from "./layout.js"
import { type MoveFs, moveDir, moveFile, nodeMoveFs } from "./move.js"

/**
 * Which tool and era wrote a task: `current` (this tool), `exec` (the Rust tool after its move to
 * `codex exec`: same layout, the id is a Codex thread), `proto` (the Rust tool on `codex proto`:
 * directories, local UUIDv4 ids, text logs) or `flat` (its first days: `<id>.json` in the root).
 */
export type TaskFormat = "current" | "exec" | "proto" | "flat"

/** Key we add to a proto- or flat-era `task.json` when we rewrite it, so its era is not forgotten. */
export const LEGACY_FORMAT_KEY = "legacy_format"

/** True for the formats that predate Codex thread ids (read, log and archive only). */
export const predatesThreads = (format: TaskFormat): format is "proto" | "flat" =>
  format === "proto" || format === "flat"

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

const readObject = (path: string): Effect.Effect<Record<string, unknown> | undefined> =>
  Effect.promise(() =>
    readFile(path, "utf8").then(
      (text) => {
        try {
          const json: unknown = JSON.parse(text)
          return typeof json === "object" && json !== null && !Array.isArray(json)
            ? (json as Record<string, unknown>)
            : undefined
        } catch {
          return undefined
        }
      },
      () => undefined,
    ),
  )

const HEAD_BYTES = 512

/** The first bytes of a file (undefined if it cannot be read). */
const fileHead = (path: string): Effect.Effect<string | undefined> =>
  Effect.promise(async () => {
    const handle = await open(path, "r").catch(() => undefined)
    if (handle === undefined) return undefined
    try {
      const buf = Buffer.alloc(HEAD_BYTES)
      const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0)
      return buf.subarray(0, bytesRead).toString("utf8")
    } catch {
      return undefined
    } finally {
      await handle.close()
    }
  })

const entryKind = (path: string): Effect.Effect<"missing" | "fifo" | "other"> =>
  Effect.promise(() =>
    lstat(path).then(
      (s) => (s.isFIFO() ? "fifo" : "other"),
      () => "missing" as const,
    ),
  )

/**
 * Tells the eras apart from what is on disk, most reliable sign first: our `legacy_format` mark;
 * `schema_version` (only this tool writes it); the proto era's signs (`state: "IDLE"`, a
 * `task.pipe`); the log's first byte (`{` for JSONL, anything else is the proto era's text log);
 * for a task without a log, the id (Codex thread ids are UUIDv7, proto ids UUIDv4).
 */
export const detectFormat = (loc: TaskLocation): Effect.Effect<TaskFormat> =>
  Effect.gen(function* () {
    if (isFlat(loc)) return "flat"
    const paths = taskPaths(loc)
    const raw = yield* readObject(paths.json)
    const marked = raw?.[LEGACY_FORMAT_KEY]
    if (marked === "proto" || marked === "flat") return marked
    if (raw?.schema_version !== undefined) return "current"
    if (raw?.state === "IDLE" || (yield* entryKind(paths.pipe)) !== "missing") return "proto"
    const head = (yield* fileHead(paths.log))?.trimStart()
    if (head !== undefined && head !== "") return head.startsWith("{") ? "exec" : "proto"
    return UUID_V7.test(loc.id) ? "exec" : "proto"
  })

const moveIfPresent = (
  move: typeof moveDir,
  from: string,
  to: string,
  fs: MoveFs,
): Effect.Effect<void, StoreError> =>
  Effect.tryPromise({ try: () => move(from, to, fs), catch: storeError("rename", from) })

const unlinkIfPresent = (path: string) =>
  Effect.tryPromise({
    try: () =>
      unlink(path).catch((e) => {
        if (errnoCode(e) !== "ENOENT") throw e
      }),
    catch: storeError("unlink", path),
  })

/** Removes the proto/flat era FIFO (a regular file of that name is data and is kept). */
const removeFifo = (path: string) =>
  Effect.flatMap(entryKind(path), (kind) => (kind === "fifo" ? unlinkIfPresent(path) : Effect.void))

/**
 * Moves a task's files into the archive directory `target` under the current names (`task.json`,
 * `task.log`, …) and removes its FIFO. A task directory moves with one rename. A flat-era task's
 * files move one by one, `<id>.json` last: until that last rename the task is still found in the
 * root (already marked ARCHIVED by the caller), and repeating the move completes it. An archive on
 * another filesystem (EXDEV) is filled by copy + fsync + remove instead (`move.ts`), just as
 * repeatable. `fs` is for tests.
 */
export const moveToArchive = (
  loc: TaskLocation,
  target: string,
  fs: MoveFs = nodeMoveFs,
): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    const paths = taskPaths(loc)
    yield* removeFifo(paths.pipe)
    if (!isFlat(loc)) {
      yield* ensurePrivateDir(dirname(target))
      return yield* moveIfPresent(moveDir, loc.dir, target, fs)
    }
    yield* ensurePrivateDir(target)
    yield* moveIfPresent(moveFile, paths.log, join(target, TASK_LOG), fs)
    yield* moveIfPresent(moveFile, paths.result, join(target, TASK_RESULT), fs)
    yield* moveIfPresent(moveFile, paths.pid, join(target, TASK_PID), fs)
    yield* moveIfPresent(moveFile, paths.pipe, join(target, TASK_PIPE), fs)
    yield* moveIfPresent(moveFile, paths.json, join(target, TASK_JSON), fs)
  }).pipe(Effect.uninterruptible)
