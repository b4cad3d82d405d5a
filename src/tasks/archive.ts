import { rmSync } from "node:fs"
import { join } from "node:path"
import { Duration, Effect, Schedule } from "effect"
import { timestampMillis } from "../domain/task.js"
import { ARCHIVE_DIR } from "../store/layout.js"
import { LEGACY_FORMAT_KEY, predatesThreads } from "../store/legacy.js"
import { LOCK_FILE } from "../store/lock.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { notificationPending } from "./endNotify.js"
import { endLeftovers } from "./leftovers.js"
import { viewOf } from "./view.js"
import { type BranchPolicy, KEEP_BRANCH, retireWorktree } from "./worktree.js"

/** How archiving one task went. */
export type ArchiveReport =
  | {
      readonly id: string
      readonly status: "archived"
      readonly dir: string
      /** Processes its last worker had left running, killed before the move (when there were any). */
      readonly leftoversKilled?: number
      /** Ignored files of its worktree kept in `<dir>/worktree-ignored/` (when there were any). */
      readonly keptIgnored?: number
    }
  | { readonly id: string; readonly status: "skipped"; readonly state: string }
  | { readonly id: string; readonly status: "already-archived"; readonly dir: string }

const pad = (n: number) => String(n).padStart(2, "0")

/** The longest an `archive` waits for a task's end notifications (they take ~75 s at most). */
export const NOTIFY_WAIT = Duration.minutes(2)

/**
 * Waits while the task's end is being notified (`--on-finish`, `--webhook`): moving it now would
 * take its result file and log from under the notification. Gives up after `NOTIFY_WAIT`.
 */
const notificationsDone = (loc: TaskLocation) =>
  notificationPending(loc).pipe(
    Effect.repeat({
      schedule: Schedule.spaced(Duration.millis(200)).pipe(Schedule.upTo(NOTIFY_WAIT)),
      while: (pending) => pending,
    }),
    Effect.asVoid,
  )

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

// The archive date is the moment the task was marked ARCHIVED, so resuming an interrupted archive
// on a later day finishes in the same place.
const archivedOn = (updatedAt: string) => {
  const ms = timestampMillis(updatedAt)
  return Number.isNaN(ms) ? new Date() : new Date(ms)
}

/**
 * Archives one task. Crash-safe in two steps: `task.json` says ARCHIVED (under the task lock,
 * after checking that no worker runs), then the files move (one rename of the task directory; a
 * flat-era task's files one by one, its `<id>.json` last). A task found ARCHIVED in the active
 * area is an interrupted archive: running `archive` again completes it, and `send` refuses it
 * meanwhile. Proto- and flat-era tasks are marked with their era (`legacy_format`) and lose their
 * FIFO; their files take the current names in the dated archive.
 */
export const archiveTaskWith = (loc: TaskLocation, branch: BranchPolicy = KEEP_BRANCH) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    if (loc.archived)
      return { id: loc.id, status: "already-archived", dir: loc.dir } satisfies ArchiveReport
    // Archived meanwhile (another `archive` run): say where it went instead of failing.
    const now = yield* store.resolve(loc.id, { includeArchived: true })
    if (now.archived)
      return { id: loc.id, status: "already-archived", dir: now.dir } satisfies ArchiveReport
    yield* notificationsDone(loc)
    const format = yield* store.format(loc)
    // Marking and moving happen under the task lock, so a racing `send` either runs first (and
    // the task is RUNNING: skipped) or sees ARCHIVED and refuses; it can never recreate the moved
    // directory.
    const outcome = yield* store.withLock(
      loc,
      Effect.gen(function* () {
        const meta = yield* store.read(loc)
        // A live worker owns the directory, whatever task.json says (a stop that killed a worker
        // and a send that started the next one may leave it STOPPED for a moment).
        if ((yield* store.workerAlive(loc)) === true) return { refused: "RUNNING" }
        const view = yield* viewOf(store, loc, meta, { withResult: false })
        if (meta.state !== "ARCHIVED" && view.state === "RUNNING") return { refused: view.state }
        // Once moved, no command finds the task's leftovers again: end them first.
        const leftoversKilled = yield* endLeftovers(loc)
        // A worktree task: its uncommitted work is committed to its branch, the worktree removed.
        const retired = yield* retireWorktree(loc.dir, loc.id, branch)
        let archivedAt = meta.updated_at
        if (meta.state !== "ARCHIVED") {
          const next = yield* store.update(loc, (m) => ({
            ...m,
            state: "ARCHIVED",
            ...(predatesThreads(format) ? { [LEGACY_FORMAT_KEY]: format } : {}),
          }))
          archivedAt = next.updated_at
        }
        const target = archiveDirFor(store.root, loc.id, archivedOn(archivedAt))
        yield* store.moveToArchive(loc, target)
        return { target, leftoversKilled, keptIgnored: retired?.keptIgnored ?? 0 }
      }),
    )
    if ("refused" in outcome)
      return { id: loc.id, status: "skipped", state: outcome.refused } satisfies ArchiveReport
    const target = outcome.target
    // Our own lock file travelled with the directory; it means nothing there.
    rmSync(join(target, LOCK_FILE), { force: true })
    return {
      id: loc.id,
      status: "archived",
      dir: target,
      ...(outcome.leftoversKilled > 0 ? { leftoversKilled: outcome.leftoversKilled } : {}),
      ...(outcome.keptIgnored > 0 ? { keptIgnored: outcome.keptIgnored } : {}),
    } satisfies ArchiveReport
  })

/** How archiving several tasks went, with the counts the summaries print. */
export interface ArchiveSummary {
  readonly reports: ReadonlyArray<ArchiveReport>
  readonly archived: number
  /** Tasks left alone because they run. */
  readonly skipped: number
}

/**
 * Archives the named tasks (archived ones included: they are reported), or every active one;
 * `branch`: what happens to a worktree task's branch (kept unless asked).
 */
export const archiveTasks = (
  refs: ReadonlyArray<string> | "all",
  branch: BranchPolicy = KEEP_BRANCH,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const locs =
      refs === "all"
        ? (yield* store.list({ includeArchived: false })).map((e) => e.loc)
        : yield* Effect.forEach(refs, (ref) => store.resolve(ref, { includeArchived: true }))
    const reports: Array<ArchiveReport> = []
    // One at a time: each takes its task lock and moves a directory.
    for (const loc of locs) reports.push(yield* archiveTaskWith(loc, branch))
    return {
      reports,
      archived: reports.filter((r) => r.status === "archived").length,
      skipped: reports.filter((r) => r.status === "skipped").length,
    } satisfies ArchiveSummary
  })
