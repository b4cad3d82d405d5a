import type { Dirent } from "node:fs"
import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { type TaskId, validateTaskId } from "../domain/taskId.js"
import { errnoCode, type StoreError, storeError } from "./errors.js"
import { LOCK_FILE } from "./lock.js"

/** File names inside a task directory (the first four are shared with the Rust tool). */
export const TASK_JSON = "task.json"
export const TASK_LOG = "task.log"
export const TASK_RESULT = "task.result"
export const TASK_PID = "task.pid"
export const WORKER_JSON = "worker.json"
/** The FIFO the Rust tool's proto era kept next to a task's files (removed when archiving). */
export const TASK_PIPE = "task.pipe"
/** Archive root inside the store: `archive/YYYY/MM/DD/<id>/`. */
export const ARCHIVE_DIR = "archive"
/** Archive root of the Rust tool's flat era: `done/<id>.json` etc. */
export const FLAT_ARCHIVE_DIR = "done"

/**
 * Where a task lives. `layout` is absent (or `"dir"`) for a task directory `dir` holding
 * `task.json`, `task.log`, …; it is `"flat"` for the Rust tool's first format, where `dir` is the
 * folder (store root or `done/`) holding `<id>.json`, `<id>.log`, `<id>.result`, `<id>.pid`,
 * `<id>.pipe`.
 */
export interface TaskLocation {
  readonly id: TaskId
  readonly dir: string
  readonly archived: boolean
  readonly layout?: "dir" | "flat"
}

/** The files of one task, whatever its layout. */
export interface TaskPaths {
  readonly json: string
  readonly log: string
  readonly result: string
  readonly pid: string
  readonly pipe: string
  /** Name of the task's lock file inside `loc.dir`. */
  readonly lockFile: string
}

/** True for a task in the Rust tool's flat layout (`<id>.json` files, no task directory). */
export const isFlat = (loc: TaskLocation): boolean => loc.layout === "flat"

/** The path of a task's metadata file (`taskPaths(loc).json`, without the other five). */
export const taskJsonPath = (loc: TaskLocation): string =>
  isFlat(loc) ? join(loc.dir, `${loc.id}.json`) : join(loc.dir, TASK_JSON)

/** The paths of a task's files. */
export const taskPaths = (loc: TaskLocation): TaskPaths =>
  isFlat(loc)
    ? {
        json: join(loc.dir, `${loc.id}.json`),
        log: join(loc.dir, `${loc.id}.log`),
        result: join(loc.dir, `${loc.id}.result`),
        pid: join(loc.dir, `${loc.id}.pid`),
        pipe: join(loc.dir, `${loc.id}.pipe`),
        lockFile: `.${loc.id}.lock`,
      }
    : {
        json: join(loc.dir, TASK_JSON),
        log: join(loc.dir, TASK_LOG),
        result: join(loc.dir, TASK_RESULT),
        pid: join(loc.dir, TASK_PID),
        pipe: join(loc.dir, TASK_PIPE),
        lockFile: LOCK_FILE,
      }

const listDir = (path: string) =>
  Effect.tryPromise({
    try: () =>
      readdir(path, { withFileTypes: true }).catch((e): Dirent[] => {
        if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return []
        throw e
      }),
    catch: storeError("list", path),
  })

const asTaskId = (name: string): TaskId | undefined => {
  const id = validateTaskId(name)
  return Either.isRight(id) && name !== ARCHIVE_DIR && name !== FLAT_ARCHIVE_DIR
    ? id.right
    : undefined
}

// Dotfiles and temp files fail id validation; symlinked task directories are followed later.
const taskDirs = (entries: ReadonlyArray<Dirent>) =>
  entries.flatMap((e) => {
    const id = e.isDirectory() || e.isSymbolicLink() ? asTaskId(e.name) : undefined
    return id === undefined ? [] : [id]
  })

/** A UUID of any version (the flat era's ids were locally generated UUIDv4s). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// Only `<uuid>.json` counts as a flat-era task, so other JSON files a user keeps in the root are
// not mistaken for broken tasks.
const flatTaskIds = (entries: ReadonlyArray<Dirent>) =>
  entries.flatMap((e) => {
    if (!(e.isFile() || e.isSymbolicLink()) || !e.name.endsWith(".json")) return []
    const stem = e.name.slice(0, -".json".length)
    const id = UUID_PATTERN.test(stem) ? asTaskId(stem) : undefined
    return id === undefined ? [] : [id]
  })

/** Active tasks directly under the root: task directories (not checked for `task.json`) and flat-era `<id>.json` files. */
export const scanActive = (root: string): Effect.Effect<ReadonlyArray<TaskLocation>, StoreError> =>
  listDir(root).pipe(
    Effect.map((entries) => [
      ...taskDirs(entries).map((id) => ({ id, dir: join(root, id), archived: false })),
      ...flatTaskIds(entries).map(
        (id): TaskLocation => ({ id, dir: root, archived: false, layout: "flat" }),
      ),
    ]),
  )

const datePart = (digits: number) => (e: Dirent) =>
  e.isDirectory() && e.name.length === digits && /^\d+$/.test(e.name)

/** Archived tasks: directories under `archive/YYYY/MM/DD/` and flat-era files in `done/`. */
export const scanArchive = (root: string): Effect.Effect<ReadonlyArray<TaskLocation>, StoreError> =>
  Effect.gen(function* () {
    const out: Array<TaskLocation> = []
    const base = join(root, ARCHIVE_DIR)
    for (const y of (yield* listDir(base)).filter(datePart(4))) {
      for (const m of (yield* listDir(join(base, y.name))).filter(datePart(2))) {
        const days = (yield* listDir(join(base, y.name, m.name))).filter(datePart(2))
        for (const d of days) {
          const dir = join(base, y.name, m.name, d.name)
          for (const id of taskDirs(yield* listDir(dir))) {
            out.push({ id, dir: join(dir, id), archived: true })
          }
        }
      }
    }
    const done = join(root, FLAT_ARCHIVE_DIR)
    for (const id of flatTaskIds(yield* listDir(done))) {
      out.push({ id, dir: done, archived: true, layout: "flat" })
    }
    return out
  })

/** True when the location holds its metadata file (of any quality). */
export const hasTaskJson = (loc: TaskLocation): Effect.Effect<boolean> =>
  Effect.promise(() =>
    stat(taskPaths(loc).json).then(
      (s) => s.isFile(),
      () => false,
    ),
  )
