import { mkdirSync, renameSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { ARCHIVE_DIR } from "../store/layout.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { viewOf } from "./view.js"

/** How archiving one task went. */
export type ArchiveReport =
  | { readonly id: string; readonly status: "archived"; readonly dir: string }
  | { readonly id: string; readonly status: "skipped"; readonly state: string }
  | { readonly id: string; readonly status: "already-archived"; readonly dir: string }

const pad = (n: number) => String(n).padStart(2, "0")

/** `archive/YYYY/MM/DD/<id>` for today's UTC date. */
export const archiveDirFor = (root: string, id: string, now = new Date()) =>
  join(
    root,
    ARCHIVE_DIR,
    String(now.getUTCFullYear()),
    pad(now.getUTCMonth() + 1),
    pad(now.getUTCDate()),
    id,
  )

/**
 * Archives one task. Crash-safe in two atomic steps: `task.json` says ARCHIVED (under the task
 * lock, after checking that no worker runs), then one rename moves the directory. A task found
 * ARCHIVED in the active area is an interrupted archive: running `archive` again completes it,
 * and `send` refuses it meanwhile.
 */
export const archiveTask = (loc: TaskLocation) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    if (loc.archived)
      return { id: loc.id, status: "already-archived", dir: loc.dir } satisfies ArchiveReport
    const refused = yield* store.withLock(
      loc,
      Effect.gen(function* () {
        const meta = yield* store.read(loc)
        const view = yield* viewOf(store, loc, meta, { withResult: false })
        if (view.state === "RUNNING") return view.state
        if (meta.state !== "ARCHIVED")
          yield* store.update(loc, (m) => ({ ...m, state: "ARCHIVED" }))
        return undefined
      }),
    )
    if (refused !== undefined)
      return { id: loc.id, status: "skipped", state: refused } satisfies ArchiveReport
    const target = archiveDirFor(store.root, loc.id)
    yield* Effect.sync(() => {
      mkdirSync(join(target, ".."), { recursive: true, mode: 0o700 })
      renameSync(loc.dir, target)
    })
    return { id: loc.id, status: "archived", dir: target } satisfies ArchiveReport
  })
