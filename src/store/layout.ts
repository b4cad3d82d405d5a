import type { Dirent } from "node:fs"
import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { type TaskId, validateTaskId } from "../domain/taskId.js"
import { errnoCode, type StoreError, storeError } from "./errors.js"

/** File names inside a task directory (the first four are shared with the Rust tool). */
export const TASK_JSON = "task.json"
export const TASK_LOG = "task.log"
export const TASK_RESULT = "task.result"
export const TASK_PID = "task.pid"
export const WORKER_JSON = "worker.json"
/** Archive root inside the store: `archive/YYYY/MM/DD/<id>/`. */
export const ARCHIVE_DIR = "archive"

/** Where a task lives. */
export interface TaskLocation {
  readonly id: TaskId
  readonly dir: string
  readonly archived: boolean
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
  return Either.isRight(id) && name !== ARCHIVE_DIR ? id.right : undefined
}

// Dotfiles and temp files fail id validation; symlinked task directories are followed later.
const taskDirs = (entries: ReadonlyArray<Dirent>) =>
  entries.flatMap((e) => {
    const id = e.isDirectory() || e.isSymbolicLink() ? asTaskId(e.name) : undefined
    return id === undefined ? [] : [id]
  })

/** Active task directories directly under the root (not checked for `task.json`). */
export const scanActive = (root: string): Effect.Effect<ReadonlyArray<TaskLocation>, StoreError> =>
  listDir(root).pipe(
    Effect.map((entries) =>
      taskDirs(entries).map((id) => ({ id, dir: join(root, id), archived: false })),
    ),
  )

const datePart = (digits: number) => (e: Dirent) =>
  e.isDirectory() && e.name.length === digits && /^\d+$/.test(e.name)

/** Archived task directories under `archive/YYYY/MM/DD/`. */
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
    return out
  })

/** True when the location holds a `task.json` (of any quality). */
export const hasTaskJson = (loc: TaskLocation): Effect.Effect<boolean> =>
  Effect.promise(() =>
    stat(join(loc.dir, TASK_JSON)).then(
      (s) => s.isFile(),
      () => false,
    ),
  )
