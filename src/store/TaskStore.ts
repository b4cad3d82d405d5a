import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  type Stats,
  statSync,
} from "node:fs"
import { appendFile, link, mkdir, readFile, rename, rm, unlink } from "node:fs/promises"
import { join, resolve as resolvePath } from "node:path"
import { Array as Arr, Effect, Either, Layer } from "effect"
import { nowTimestamp, type TaskMeta } from "../domain/task.js"
import { validateTaskId } from "../domain/taskId.js"
import { isAlive, killRun } from "../processes/control.js"
import type { ProcessIdentity } from "../processes/identity.js"
import * as ProcessesLive from "../processes/live.js"
import { Processes } from "../processes/Processes.js"
import {
  ensurePrivateDir,
  syncDir as syncDirectory,
  tempPathFor,
  writeFileAtomic,
} from "./atomic.js"
import {
  AmbiguousTaskId,
  CorruptTask,
  errnoCode,
  StoreError,
  storeError,
  TaskExists,
  TaskNotFound,
  tryFs,
} from "./errors.js"
import { faultPoint } from "./faults.js"
import {
  hasTaskJson,
  isFlat,
  scanActive,
  scanArchive,
  type TaskLocation,
  taskJsonPath,
  taskPaths,
} from "./layout.js"
import { detectFormat, moveToArchive } from "./legacy.js"
import { type LockOptions, withTaskLock } from "./lock.js"
import { parseTaskJson, renderTaskJson } from "./metaCodec.js"
import * as Results from "./results.js"
import * as Run from "./runRecord.js"
import { StoreRoot } from "./storeRoot.js"
import { makeTaskInbox } from "./taskInbox.js"
import * as Worker from "./workerFiles.js"

export type { TaskLocation } from "./layout.js"
export type { TaskFormat } from "./legacy.js"
export { StoreRoot } from "./storeRoot.js"

/** One row of `list`: a readable task or the reason it is not. */
export type TaskListEntry =
  | { readonly loc: TaskLocation; readonly meta: TaskMeta }
  | { readonly loc: TaskLocation; readonly error: CorruptTask }

/** Options of `resolve`. */
export interface ResolveOptions {
  readonly includeArchived?: boolean
}

// How long after its last modification a `task.json` is trusted to keep its stamp until it changes.
const RACY_MS = 2_000

const byId = (a: TaskLocation, b: TaskLocation) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

// Legacy flat-era tasks have no directory: no inbox, no worker records.
const noDirectory = (loc: TaskLocation, what: string) =>
  new StoreError({
    message: `task ${loc.id} is in the Rust tool's flat format and has no ${what}`,
    path: taskPaths(loc).json,
  })

/** The task store: layout, metadata, logs, results, locks, inbox and worker records on disk. */
export class TaskStore extends Effect.Service<TaskStore>()("codex-tasks/TaskStore", {
  dependencies: [ProcessesLive.layer],
  effect: Effect.gen(function* () {
    const root = resolvePath(yield* StoreRoot)
    // Liveness of workers and of recorded processes (the fake in tests: DefaultWithoutDependencies).
    const processes = yield* Processes
    const activeLoc = (id: TaskLocation["id"]): TaskLocation => ({
      id,
      dir: join(root, id),
      archived: false,
    })

    const flatLoc = (id: TaskLocation["id"]): TaskLocation => ({
      id,
      dir: root,
      archived: false,
      layout: "flat",
    })

    /** Full id or unique prefix → location; archived tasks only when asked. */
    const resolve = Effect.fn("TaskStore.resolve")(function* (
      ref: string,
      options: ResolveOptions = {},
    ) {
      const id = yield* validateTaskId(ref)
      if (yield* hasTaskJson(activeLoc(id))) return activeLoc(id)
      if (yield* hasTaskJson(flatLoc(id))) return flatLoc(id)
      const candidates = [...(yield* scanActive(root))]
      if (options.includeArchived === true) candidates.push(...(yield* scanArchive(root)))
      const matching = yield* Effect.filter(
        candidates.filter((c) => c.id.startsWith(ref)),
        hasTaskJson,
        { concurrency: 16 },
      )
      // The same id active and archived (an interrupted archive move): the active copy wins (and a
      // task directory over a flat-era file).
      const unique = Arr.dedupeWith(
        [...matching].sort(
          (a, b) =>
            byId(a, b) ||
            Number(a.archived) - Number(b.archived) ||
            Number(isFlat(a)) - Number(isFlat(b)),
        ),
        (a, b) => a.id === b.id,
      )
      const exact = unique.find((c) => c.id === ref)
      if (exact !== undefined) return exact
      const [only, ...rest] = unique
      if (only === undefined) return yield* new TaskNotFound({ ref })
      if (rest.length > 0) {
        return yield* new AmbiguousTaskId({ ref, candidates: unique.map((c) => c.id) })
      }
      return only
    })

    /** `task.json.prev`: the record before the last update (docs/faults.md, the fuzz). */
    const backupPath = (loc: TaskLocation) => `${taskPaths(loc).json}.prev`

    const readRecord = (
      loc: TaskLocation,
      path: string,
    ): Either.Either<TaskMeta, TaskNotFound | CorruptTask> => {
      let text: string
      try {
        text = readFileSync(path, "utf8")
      } catch (e) {
        return Either.left(
          errnoCode(e) === "ENOENT"
            ? new TaskNotFound({ ref: loc.id })
            : new CorruptTask({ id: loc.id, path, reason: `unreadable (${errnoCode(e) ?? e})` }),
        )
      }
      return parseTaskJson(text, loc.id, path)
    }

    // Decoded records by path, each with the stamp of the file it came from. Every writer replaces
    // `task.json` by a rename (a new inode, new times), so an unchanged stamp is an unchanged
    // record: a long-lived reader (serve, mcp) stats a task it has seen instead of decoding it.
    // File times are coarse (a clock tick) and inodes are reused, so a file modified within
    // `RACY_MS` of its read is not kept (as git treats "racily clean" entries): a later write could
    // carry the very same stamp. A later write to a file settled for longer has a later mtime.
    const decoded = new Map<string, { readonly stamp: string; readonly meta: TaskMeta }>()
    const stampOf = (s: Stats) => `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`

    /** `readRecord` of the current record, answered from `decoded` while the file is unchanged. */
    const readCurrent = (
      loc: TaskLocation,
      path: string,
    ): Either.Either<TaskMeta, TaskNotFound | CorruptTask> => {
      const kept = decoded.get(path)
      if (kept !== undefined) {
        const now = statSync(path, { throwIfNoEntry: false })
        if (now !== undefined && stampOf(now) === kept.stamp) return Either.right(kept.meta)
        decoded.delete(path)
      }
      let fd: number
      try {
        fd = openSync(path, "r")
      } catch {
        return readRecord(loc, path)
      }
      try {
        // The stamp of the very file read: a replacement meanwhile is read again next time.
        const stats = fstatSync(fd)
        const parsed = parseTaskJson(readFileSync(fd, "utf8"), loc.id, path)
        if (Either.isRight(parsed) && Date.now() - stats.mtimeMs > RACY_MS) {
          decoded.set(path, { stamp: stampOf(stats), meta: parsed.right })
        }
        return parsed
      } catch {
        return readRecord(loc, path)
      } finally {
        closeSync(fd)
      }
    }

    /**
     * Reads and decodes `task.json` (`<id>.json` for a flat-era task). A damaged one falls back to
     * `task.json.prev`, the record before the last update, so the task stays usable (its next
     * update repairs `task.json`); without a good backup the task reads as corrupt.
     */
    // Synchronous on purpose: a small file, and `ls` reads thousands of them (the promise API's
    // open/fstat/read/close round trips, and a fiber per task, cost more than the reads).
    const readNow = (loc: TaskLocation): Either.Either<TaskMeta, TaskNotFound | CorruptTask> => {
      const current = readCurrent(loc, taskJsonPath(loc))
      if (Either.isRight(current) || current.left._tag === "TaskNotFound" || isFlat(loc)) {
        return current
      }
      const backup = readRecord(loc, backupPath(loc))
      return Either.isRight(backup) ? backup : current
    }

    /** Reads and decodes `task.json`. */
    const read = (loc: TaskLocation) => Effect.suspend(() => readNow(loc))

    /** Replaces `task.json` atomically (unknown fields preserved). */
    const write = Effect.fn("TaskStore.write")(function* (loc: TaskLocation, meta: TaskMeta) {
      const text = yield* Effect.orDie(renderTaskJson(meta))
      yield* writeFileAtomic(taskPaths(loc).json, text)
    })

    /**
     * Creates the task directory; `prepare` fills it (the worker's records, the buffered log), and
     * `task.json` comes last, durably: a directory without it is not a task, so no reader ever
     * sees a task whose worker is not recorded yet. Fails if the task exists; a failure leaves
     * nothing behind. With `owner` (the creating worker) the directory appears already holding
     * its `worker.json` (made under a temporary name, then renamed), so a creator killed before
     * `task.json` leaves a directory `sweepScratch` can tell is abandoned.
     */
    const create = Effect.fn("TaskStore.create")(function* <E = never>(
      meta: TaskMeta,
      prepare: (loc: TaskLocation) => Effect.Effect<void, E> = () => Effect.void,
      owner?: ProcessIdentity,
    ) {
      const loc = activeLoc(yield* validateTaskId(meta.id))
      yield* ensurePrivateDir(root)
      const exists = (e: unknown) =>
        errnoCode(e) === "EEXIST" || errnoCode(e) === "ENOTEMPTY"
          ? new TaskExists({ id: loc.id })
          : storeError("mkdir", loc.dir)(e)
      if (owner === undefined) {
        yield* Effect.tryPromise({
          try: () => {
            faultPoint("task.create", loc.dir)
            return mkdir(loc.dir, { mode: 0o700 })
          },
          catch: exists,
        })
      } else {
        const staging = tempPathFor(loc.dir)
        yield* tryFs("mkdir", staging, () => {
          faultPoint("task.create", loc.dir)
          return mkdir(staging, { mode: 0o700 })
        })
        yield* Effect.zipRight(
          Worker.writeWorkerIdentity(staging, owner),
          Effect.tryPromise({
            try: async () => {
              if (existsSync(loc.dir)) throw Object.assign(new Error("exists"), { code: "EEXIST" })
              faultPoint("task.publish", loc.dir)
              // rename(2) fails on a non-empty target: a task made meanwhile is never replaced
              await rename(staging, loc.dir)
            },
            catch: exists,
          }),
        ).pipe(
          Effect.tapError(() =>
            Effect.promise(() => rm(staging, { recursive: true, force: true })),
          ),
        )
      }
      // The directory is ours alone (mkdir above was exclusive): removing it on failure is safe.
      const undo = Effect.promise(() => rm(loc.dir, { recursive: true, force: true }))
      yield* Effect.gen(function* () {
        yield* prepare(loc)
        yield* write(loc, meta)
        yield* syncDirectory(loc.dir)
        yield* syncDirectory(root)
      }).pipe(Effect.tapError(() => undo))
      return loc
    })

    /** Runs `effect` under the task's cross-process lock (reentrant within a fiber). */
    const withLock = <A, E, R>(
      loc: TaskLocation,
      effect: Effect.Effect<A, E, R>,
      options?: LockOptions,
    ) =>
      withTaskLock(
        loc.dir,
        effect,
        isFlat(loc) ? { ...options, file: taskPaths(loc).lockFile } : options,
      )

    /**
     * Keeps the current, good `task.json` as `task.json.prev` (a hard link: no copy) before it is
     * replaced. A damaged `task.json` is never made the backup.
     */
    const keepBackup = (loc: TaskLocation) =>
      isFlat(loc)
        ? Effect.void
        : tryFs("link", backupPath(loc), async () => {
            faultPoint("meta.backup", backupPath(loc))
            await unlink(backupPath(loc)).catch((e) => {
              if (errnoCode(e) !== "ENOENT") throw e
            })
            await link(taskPaths(loc).json, backupPath(loc))
          })

    /** Read-modify-write of `task.json` under the task lock; sets `updated_at`. */
    const update = Effect.fn("TaskStore.update")(function* (
      loc: TaskLocation,
      f: (meta: TaskMeta) => TaskMeta,
    ) {
      return yield* withLock(
        loc,
        Effect.gen(function* () {
          const current = readRecord(loc, taskPaths(loc).json)
          const meta = Either.isRight(current) ? current.right : yield* read(loc)
          const next: TaskMeta = { ...f(meta), updated_at: nowTimestamp() }
          if (Either.isRight(current)) yield* keepBackup(loc)
          yield* write(loc, next)
          return next
        }),
      )
    })

    /** Appends raw bytes to `task.log` (O_APPEND, 0600). */
    const appendLog = Effect.fn("TaskStore.appendLog")(function* (
      loc: TaskLocation,
      data: string | Uint8Array,
    ) {
      const path = taskPaths(loc).log
      yield* tryFs("append", path, () => {
        faultPoint("log.append", path, data)
        return appendFile(path, data, { flag: "a", mode: 0o600 })
      })
    })

    /** The last final message, if any. */
    const readResult = Effect.fn("TaskStore.readResult")(function* (loc: TaskLocation) {
      const path = taskPaths(loc).result
      return yield* tryFs("read", path, () =>
        readFile(path, "utf8").catch((e) => {
          if (errnoCode(e) === "ENOENT") return undefined
          throw e
        }),
      )
    })

    /** Every task (and archived ones when asked), sorted by id; corrupt ones carry their error. */
    const list = Effect.fn("TaskStore.list")(function* (options: { includeArchived: boolean }) {
      const locs = [...(yield* scanActive(root))]
      if (options.includeArchived) locs.push(...(yield* scanArchive(root)))
      locs.sort(byId)
      const rows: Array<TaskListEntry> = []
      for (const loc of locs) {
        const meta = readNow(loc)
        if (Either.isRight(meta)) rows.push({ loc, meta: meta.right })
        else if (meta.left._tag === "CorruptTask") rows.push({ loc, error: meta.left })
        // TaskNotFound: not a task, or it moved away while we listed
      }
      // Forget the records of tasks gone (archived, removed) once there are many of them.
      if (decoded.size > locs.length + 256) {
        const listed = new Set(locs.map(taskJsonPath))
        for (const path of decoded.keys()) if (!listed.has(path)) decoded.delete(path)
      }
      return rows
    })

    const inbox = makeTaskInbox({ read, update, appendLog, withLock })

    return {
      root,
      resolve,
      create,
      read,
      write,
      update,
      appendLog,
      /** Path of the task's transcript (JSONL; the text log of a proto/flat-era task). */
      logPath: (loc: TaskLocation): string => taskPaths(loc).log,
      readResult,
      withLock,
      ...inbox,
      ...Results.scratchOps(
        root,
        (owner) => isAlive(owner).pipe(Effect.provideService(Processes, processes)),
        (run) => killRun(run).pipe(Effect.provideService(Processes, processes)),
      ),
      /** Records the worker process (`worker.json` + `task.pid`). */
      writeWorker: (loc: TaskLocation, identity: ProcessIdentity) =>
        (isFlat(loc)
          ? Effect.fail(noDirectory(loc, "worker"))
          : Worker.writeWorker(loc.dir, identity)
        ).pipe(Effect.withSpan("TaskStore.writeWorker")),
      /** Removes the worker record (only if it names `expected`, when given). */
      clearWorker: (loc: TaskLocation, expected?: ProcessIdentity) =>
        (isFlat(loc) ? Effect.void : Worker.clearWorker(loc.dir, expected)).pipe(
          Effect.withSpan("TaskStore.clearWorker"),
        ),
      /** Whether the task's worker is alive (`"unknown"` for an unverifiable legacy pid). */
      workerAlive: (loc: TaskLocation) =>
        (isFlat(loc)
          ? Worker.legacyPidAlive(taskPaths(loc).pid)
          : Worker.workerAlive(loc.dir)
        ).pipe(
          Effect.provideService(Processes, processes),
          Effect.withSpan("TaskStore.workerAlive"),
        ),
      list,
      /** Which tool and era wrote the task (decides whether it can be resumed). */
      format: (loc: TaskLocation) => detectFormat(loc).pipe(Effect.withSpan("TaskStore.format")),
      /** Moves the task's files into `target` (an `archive/YYYY/MM/DD/<id>` path), removing its FIFO. */
      moveToArchive: (loc: TaskLocation, target: string) =>
        moveToArchive(loc, target).pipe(Effect.withSpan("TaskStore.moveToArchive")),
      ...Run.runRecordOps((p) => isAlive(p).pipe(Effect.provideService(Processes, processes))),
    } as const
  }),
}) {
  /** The store rooted at `root`. */
  static layer = (root: string): Layer.Layer<TaskStore> =>
    TaskStore.Default.pipe(Layer.provide(Layer.succeed(StoreRoot, root)))
}
