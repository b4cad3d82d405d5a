import { randomUUID } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises"
import { basename, dirname, join, resolve, sep } from "node:path"
import { Effect, Option } from "effect"
import type { ProcessIdentity } from "../processes/identity.js"
import { identityOf, isSameProcessAlive } from "../processes/procfs.js"
import { tempOwnerPid } from "./atomic.js"
import { errnoCode, StoreError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"
import { INBOX_DIR } from "./inbox.js"
import { scanActive, TASK_JSON, TASK_LOG, TASK_RESULT, type TaskLocation } from "./layout.js"
import * as Run from "./runRecord.js"
import { START_SCRATCH_DIR } from "./scratchNames.js"
import { readWorkerIdentity, writeWorkerIdentity } from "./workerFiles.js"

/**
 * Scratch files of the worker: each invocation's `--output-last-message` file (`.result.<uuid>.tmp`
 * in the task directory, promoted to `task.result` after a completed turn), and the private
 * directory `<root>/.tmp/<run>/` a start writes into before its task directory exists. A worker
 * killed outright leaves them behind; `sweepStartDirs` / `sweepResultScratch` remove those.
 */

const SCRATCH = /^\.result\..+\.tmp$/

/** A fresh path for one invocation's `-o` file inside `dir`. */
export const scratchResultPath = (dir: string): string => join(dir, `.result.${randomUUID()}.tmp`)

/** `<root>/.tmp/<runId>`: where a start keeps its `-o` file until its task exists. */
export const startDirOf = (root: string, runId: string): string =>
  join(root, START_SCRATCH_DIR, runId)

/**
 * Creates (or takes over, when the launcher made it to hold the worker's stderr) a start's scratch
 * directory, owned by `owner`, so that a sweep can tell when it is stale.
 */
export const makeStartDir = (dir: string, owner: ProcessIdentity | undefined, runId?: string) =>
  Effect.gen(function* () {
    yield* tryFs("mkdir", dir, () => mkdir(dir, { recursive: true, mode: 0o700 }))
    if (owner !== undefined) yield* writeWorkerIdentity(dir, owner)
    // The run's marker: a sweep that finds the owner dead ends what its codex runs left.
    if (runId !== undefined) yield* Run.writeRunRecord(dir, runId)
  })

/** Ends the processes of a run (its marker and recorded identities); how many were killed. */
export type KillRun = (run: {
  readonly marker: string
  readonly identities: ReadonlyArray<ProcessIdentity>
}) => Effect.Effect<number>

/** Ends what the run recorded in `dir` (`run.json`) left running: its owner died with it. */
const killLeftRun = (dir: string, kill: KillRun | undefined) =>
  Effect.flatMap(Run.readRunRecord(dir), (run) =>
    kill === undefined || Option.isNone(run)
      ? Effect.void
      : Effect.asVoid(kill({ marker: run.value.runId, identities: run.value.processes })),
  )

const removeTree = (path: string) =>
  tryFs("remove", path, () => {
    faultPoint("scratch.remove", path)
    return rm(path, { recursive: true, force: true })
  })

/** Removes a start's scratch directory (`<root>/.tmp` itself stays: other starts share it). */
export const removeStartDir = (dir: string) => removeTree(dir)

// A directory nobody claimed yet (its worker is still starting up) is left alone this long.
const UNCLAIMED_GRACE_MS = 10 * 60_000

const listNames = (dir: string) =>
  tryFs("list", dir, () =>
    readdir(dir).catch((e): Array<string> => {
      if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return []
      throw e
    }),
  )

/**
 * Removes the scratch directories of starts whose worker is gone (killed before it finished),
 * after ending what its codex run left running (`kill`).
 */
export const sweepStartDirs = (
  root: string,
  alive: (owner: ProcessIdentity) => Effect.Effect<boolean>,
  kill?: KillRun,
) =>
  Effect.gen(function* () {
    const base = join(root, START_SCRATCH_DIR)
    let removed = 0
    for (const name of yield* listNames(base)) {
      const dir = join(base, name)
      const owner = readWorkerIdentity(dir)
      if (owner !== undefined && (yield* alive(owner))) continue
      if (owner === undefined) {
        const age = yield* tryFs("stat", dir, () => stat(dir)).pipe(
          Effect.map((s) => Date.now() - s.mtimeMs),
          Effect.orElseSucceed(() => 0),
        )
        if (age < UNCLAIMED_GRACE_MS) continue
      }
      yield* killLeftRun(dir, kill)
      yield* removeTree(dir)
      removed++
    }
    return removed
  })

/**
 * Removes the temporary files (and a task's staging directory) that a process killed in the middle
 * of an atomic write left in `dir`: those whose writer's pid (in the name) is not alive. A live
 * pid keeps its file, so a write in progress is never touched.
 */
export const sweepDeadTemps = (dir: string) =>
  Effect.gen(function* () {
    let removed = 0
    for (const name of yield* listNames(dir)) {
      const pid = tempOwnerPid(name)
      if (pid === undefined || identityOf(pid) !== undefined) continue
      yield* removeTree(join(dir, name))
      removed++
    }
    return removed
  })

/**
 * Removes the task directories a start left without `task.json` (it was killed while creating
 * the task: `TaskStore.create`): those whose `worker.json` names a creator that is not alive.
 * A directory without `worker.json` is not judged (no start of ours leaves one).
 */
export const sweepUnfinishedTasks = (
  root: string,
  alive: (owner: ProcessIdentity) => Effect.Effect<boolean>,
  kill?: KillRun,
) =>
  Effect.gen(function* () {
    let removed = 0
    for (const loc of yield* scanActive(root)) {
      if (loc.layout === "flat" || existsSync(join(loc.dir, TASK_JSON))) continue
      const owner = readWorkerIdentity(loc.dir)
      if (owner === undefined || (yield* alive(owner))) continue
      // task.json may have appeared meanwhile only if the creator lives: it is dead, so it did not
      yield* killLeftRun(loc.dir, kill)
      yield* removeTree(loc.dir)
      removed++
    }
    return removed
  })

/**
 * Ends with a newline a `task.log` whose last line is unterminated (a killed worker's torn
 * append, or a last line codex printed without one), so the next worker's entries start on a line
 * of their own instead of gluing onto it. Nothing is removed. Only the task's worker appends, so
 * this runs when one takes over. Returns whether it sealed the log.
 */
export const sealLogTail = (dir: string) => {
  const path = join(dir, TASK_LOG)
  return tryFs("seal", path, async () => {
    const handle = await open(path, "r+").catch((e) => {
      if (errnoCode(e) === "ENOENT") return undefined
      throw e
    })
    if (handle === undefined) return false
    try {
      const size = (await handle.stat()).size
      if (size === 0) return false
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      if (last[0] === 0x0a) return false
      faultPoint("log.seal", path)
      await handle.write("\n", size)
      await handle.sync()
      return true
    } finally {
      await handle.close()
    }
  })
}

/**
 * Removes the `-o` scratch files in a task directory. Only the task's own worker writes them, so
 * the worker calls this when it takes over the task: any found then belong to a lost worker.
 */
export const sweepResultScratch = (dir: string) =>
  Effect.gen(function* () {
    const stale = (yield* listNames(dir)).filter((n) => SCRATCH.test(n))
    for (const name of stale) yield* removeTree(join(dir, name))
    const temps = (yield* sweepDeadTemps(dir)) + (yield* sweepDeadTemps(join(dir, INBOX_DIR)))
    const torn = (yield* sealLogTail(dir)) ? 1 : 0
    return stale.length + temps + torn
  })

/** Removes an invocation's `-o` file (a failed or interrupted turn keeps the previous result). */
export const discardResult = (scratch: string) => removeTree(scratch)

const readNonEmpty = (path: string) =>
  tryFs("read", path, () =>
    readFile(path, "utf8").then(
      (text) => (text.length > 0 ? text : undefined),
      (e) => {
        if (errnoCode(e) === "ENOENT") return undefined
        throw e
      },
    ),
  )

/**
 * After a completed turn: the `-o` file, if codex wrote a non-empty one, becomes `task.result`
 * (moved into the task directory first when it was written before the task existed, fsynced,
 * then renamed over the old result). Returns the text, or undefined when there was none (the
 * previous result is kept). The scratch file is gone afterwards either way.
 */
export const promoteResult = (taskDir: string, scratch: string) =>
  Effect.gen(function* () {
    const text = yield* readNonEmpty(scratch)
    if (text === undefined) {
      yield* discardResult(scratch)
      return undefined
    }
    const inTaskDir = join(taskDir, basename(scratch))
    if (resolve(dirname(scratch)) !== resolve(taskDir)) {
      yield* tryFs("rename", scratch, () => {
        faultPoint("result.move", scratch)
        return rename(scratch, inTaskDir)
      })
    }
    yield* tryFs("promote", inTaskDir, async () => {
      faultPoint("result.promote", inTaskDir)
      const handle = await open(inTaskDir, "r+")
      try {
        await handle.chmod(0o600)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(inTaskDir, join(taskDir, TASK_RESULT))
    })
    return text
  }).pipe(
    Effect.catchAll((e) =>
      Effect.zipRight(
        discardResult(scratch).pipe(Effect.ignore),
        Effect.fail(
          new StoreError({ message: `saving the result failed: ${e.message}`, path: scratch }),
        ),
      ),
    ),
  )

/** The scratch operations the task store offers, for the store rooted at `root`. */
export const scratchOps = (
  root: string,
  alive: (owner: ProcessIdentity) => Effect.Effect<boolean> = (o) =>
    Effect.sync(() => isSameProcessAlive(o)),
  kill?: KillRun,
) => {
  const scratchRoot = join(root, START_SCRATCH_DIR)
  const inside = (path: string, dir: string) => resolve(path).startsWith(resolve(dir) + sep)
  return {
    /** A fresh `-o` scratch path in the task directory. */
    scratchResult: (loc: TaskLocation) => scratchResultPath(loc.dir),
    /** `<root>/.tmp/<name>`: a start's scratch directory (its `-o` file lives there at first). */
    startDirOf: (name: string) => startDirOf(root, name),
    /** Creates a start's scratch directory, owned by the worker `owner`. */
    makeStartDir,
    /** Removes a start's scratch directory. */
    removeStartDir,
    /** Removes an invocation's `-o` file without promoting it. */
    discardResult,
    /**
     * After a completed turn, makes the invocation's `-o` file (in the task directory, or in the
     * start's scratch directory) the task's `task.result`; returns its text, undefined if empty.
     */
    promoteResult: (loc: TaskLocation, scratch: string) =>
      dirname(resolve(scratch)) !== resolve(loc.dir) && !inside(scratch, scratchRoot)
        ? Effect.fail(
            new StoreError({
              message: `result file ${scratch} is not inside the task directory ${loc.dir}`,
              path: scratch,
            }),
          )
        : promoteResult(loc.dir, scratch),
    /**
     * Removes the temporary files that dead writers left in a task's directory and inbox (a
     * `send` killed mid-write); a live writer's are kept. For `stop -a`, which visits every task.
     */
    sweepTaskTemps: (loc: TaskLocation) =>
      loc.layout === "flat"
        ? Effect.succeed(0)
        : Effect.zipWith(
            sweepDeadTemps(loc.dir),
            sweepDeadTemps(join(loc.dir, INBOX_DIR)),
            (a, b) => a + b,
          ),
    /**
     * Removes what killed processes left: stale start directories, tasks whose creation never
     * finished, temporary files of dead writers (in the store root and `.worktrees/`), and the
     * task's `-o` files.
     */
    sweepScratch: (loc: TaskLocation | undefined) =>
      Effect.all(
        [
          sweepStartDirs(root, alive, kill),
          sweepUnfinishedTasks(root, alive, kill),
          sweepDeadTemps(root),
          // a start --worktree killed while writing its intent record (`.worktrees/<token>.json`)
          sweepDeadTemps(join(root, ".worktrees")),
          loc === undefined || loc.layout === "flat"
            ? Effect.succeed(0)
            : sweepResultScratch(loc.dir),
        ],
        { mode: "either" },
      ).pipe(
        Effect.map((counts) => counts.reduce((n, c) => n + (c._tag === "Right" ? c.right : 0), 0)),
      ),
  } as const
}
