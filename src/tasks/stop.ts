import { readdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { isAlive, killRun, signalIfSame, waitGone } from "../processes/control.js"
import { type ProcessIdentity, sameProcess } from "../processes/identity.js"
import { Processes } from "../processes/Processes.js"
import type { CorruptTask, LockTimeout, StoreError, TaskNotFound } from "../store/errors.js"
import { taskPaths } from "../store/layout.js"
import { START_SCRATCH_DIR } from "../store/scratchNames.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { readWorkerIdentity } from "../store/workerFiles.js"
import { claimEnd, launchNotifier, notifyEnd } from "./endNotify.js"
import { endLeftovers, runProcesses } from "./leftovers.js"

/** Why a stop could not even look at the task (its files). */
type StopFailure = StoreError | LockTimeout | TaskNotFound | CorruptTask

/** How one task's stop went. */
export type StopReport =
  | { readonly id: string; readonly status: "stopped" }
  | { readonly id: string; readonly status: "not-running" }
  | { readonly id: string; readonly status: "killed"; readonly message: string }
  | { readonly id: string; readonly status: "unknown"; readonly message: string }

/**
 * A task the Rust tool left running: its `task.pid` names the codex process itself (no worker
 * of ours). Only a task stored RUNNING whose pid runs `codex exec`/`codex proto` is touched, and
 * since the pid cannot be verified beyond that, it gets SIGINT (codex ends the turn and kills
 * its command) and then SIGTERM, never SIGKILL.
 */
const stopLegacy = (loc: TaskLocation, timeoutMs: number) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const processes = yield* Processes
    const notRunning = { id: loc.id, status: "not-running" } satisfies StopReport
    if ((yield* store.read(loc)).state !== "RUNNING") return notRunning
    const pid = Number(readFileSync(taskPaths(loc).pid, "utf8").trim())
    const identity = yield* processes.identify(pid)
    const command = Option.getOrElse(yield* processes.commandLine(pid), () => "")
    if (Option.isNone(identity) || !/codex\S*\s+(.*\s)?(exec|proto)\b/.test(command))
      return notRunning
    yield* processes.signal(pid, "SIGINT")
    if (!(yield* waitGone(identity.value, Math.min(timeoutMs, 5_000)))) {
      yield* processes.signal(pid, "SIGTERM")
      yield* waitGone(identity.value, 5_000)
    }
    yield* store.update(loc, (m) => ({
      ...m,
      state: "STOPPED",
      last_outcome: {
        kind: "interrupted",
        message: "by stop (codex process of the Rust tool)",
        at: new Date().toISOString(),
      },
    }))
    rmSync(taskPaths(loc).pid, { force: true })
    return { id: loc.id, status: "stopped" } satisfies StopReport
  }).pipe(
    Effect.catchAllDefect(() =>
      Effect.succeed({ id: loc.id, status: "not-running" } satisfies StopReport),
    ),
  )

/** Stops one task's worker and waits until it is gone (escalating to SIGKILL after `timeoutMs`). */
export const stopTask = (
  loc: TaskLocation,
  afterTurn: boolean,
  timeoutMs: number,
): Effect.Effect<StopReport, StopFailure, TaskStore | Processes> =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const processes = yield* Processes
    const identity = readWorkerIdentity(loc.dir)
    if (identity === undefined || !(yield* isAlive(identity))) {
      if ((yield* store.workerAlive(loc)) === "unknown") return yield* stopLegacy(loc, timeoutMs)
      // A worker killed outright leaves codex and its commands running (whatever the task's state
      // says; its runs' processes are in run.json): end them.
      // Under the lock: a `send` records the worker it starts before releasing it, so the run.json
      // read here cannot be a newer worker's.
      const leftovers = yield* store.withLock(
        loc,
        Effect.gen(function* () {
          const now = readWorkerIdentity(loc.dir)
          if (now !== undefined && (yield* isAlive(now))) return "new-worker" as const
          const killed = yield* endLeftovers(loc)
          // What a lost worker (or a drop it was making) left unrecorded is recorded now, as the
          // next worker would, and what it left queued is dropped, as a stop of its run would
          // have: a task that never runs again (a spent budget) still tells.
          yield* store.recoverInFlight(loc).pipe(Effect.catchTag("StoreError", () => Effect.void))
          yield* store.dropQueued(loc).pipe(Effect.catchTag("StoreError", () => Effect.void))
          // Stored RUNNING with no worker: a lost worker, whose run is this run.json's.
          const stored = yield* store.read(loc).pipe(Effect.option)
          const lostRun =
            stored._tag === "Some" && stored.value.state === "RUNNING"
              ? yield* store.readRunRecord(loc)
              : Option.none()
          return { killed, lostRun }
        }),
      )
      if (leftovers === "new-worker") return yield* stopTask(loc, afterTurn, timeoutMs)
      const stored = yield* store.read(loc).pipe(Effect.option)
      const lost = stored._tag === "Some" && stored.value.state === "RUNNING"
      // A lost worker's end was never notified: this stop is the one that saw it (once per run).
      if (Option.isSome(leftovers.lostRun))
        yield* notifyEnd(loc, leftovers.lostRun.value.runId, "worker_lost")
      const killed = leftovers.killed
      if (killed > 0) {
        return {
          id: loc.id,
          status: "killed",
          message: lost
            ? `Task ${loc.id} had lost its worker; killed ${killed} leftover process(es).`
            : `Task ${loc.id} was not running; killed ${killed} leftover process(es) of its last worker.`,
        } satisfies StopReport
      }
      return { id: loc.id, status: "not-running" } satisfies StopReport
    }
    // Which run is this worker's: a `send` may start a newer worker (and run) once it is killed.
    const run = yield* store.readRunRecord(loc)
    // A worker whose task already left RUNNING is on its way out (its end written, notifications
    // running): it is still ended, but the task was not running.
    const ended = yield* store.read(loc).pipe(
      Effect.map((m) => m.state !== "RUNNING"),
      Effect.orElseSucceed(() => false),
    )
    yield* processes.signal(identity.pid, afterTurn ? "SIGUSR1" : "SIGTERM")
    if (yield* waitGone(identity, timeoutMs))
      return { id: loc.id, status: ended ? "not-running" : "stopped" } satisfies StopReport
    // The worker did not finish in time: kill it and every process of its runs.
    yield* signalIfSame(identity, "SIGKILL")
    const now = yield* store.readRunRecord(loc)
    const sameRun = Option.isSome(now) && Option.isSome(run) && now.value.runId === run.value.runId
    yield* killRun(runProcesses(sameRun ? now : run))
    yield* waitGone(identity, 5_000)
    // What the worker would have done (queued prompts dropped, visibly; STOPPED), under the lock
    // and only if worker.json still names the killed worker: else a newer worker owns the task.
    const outcome = yield* store.withLock(
      loc,
      Effect.gen(function* () {
        const current = readWorkerIdentity(loc.dir)
        if (current === undefined || !sameProcess(identity, current)) return { taken: true }
        // The killed worker cannot notify: this stop does, claimed before the task leaves
        // RUNNING (as a worker's own end is), the notifier started once the lock is released.
        const notify =
          Option.isSome(run) && (yield* claimEnd(loc, run.value.runId, "killed"))
            ? run.value.runId
            : undefined
        yield* store.dropQueued(loc)
        yield* store.update(loc, (m) => ({
          ...m,
          state: "STOPPED",
          last_outcome: {
            kind: "interrupted",
            message: `killed after the stop timeout (${Math.round(timeoutMs / 1000)} s)`,
            at: new Date().toISOString(),
          },
        }))
        yield* store.clearWorker(loc, identity)
        return { taken: false, notify }
      }),
    )
    if (outcome.notify !== undefined) yield* launchNotifier(loc, outcome.notify, "killed")
    const taken = outcome.taken
    return {
      id: loc.id,
      status: "killed",
      message: `Task ${loc.id} did not stop within ${Math.round(timeoutMs / 1000)} s; killed.${taken ? " A newer worker has taken the task over since." : ""}`,
    } satisfies StopReport
  })

/**
 * `stop --all` for starts that have no task yet (their worker waits for a run slot, or for codex's
 * thread): each live owner of a start's scratch directory that is not one of `taskWorkers` gets
 * SIGTERM (the start is called off: codex never runs, or is interrupted), SIGKILL after
 * `timeoutMs`. Reported by the scratch directory's name, since there is no task id.
 */
export const stopPendingStarts = (
  root: string,
  taskWorkers: ReadonlyArray<ProcessIdentity>,
  timeoutMs: number,
): Effect.Effect<ReadonlyArray<StopReport>, never, Processes> =>
  Effect.gen(function* () {
    const base = join(root, START_SCRATCH_DIR)
    let names: Array<string> = []
    try {
      names = readdirSync(base)
    } catch {
      return []
    }
    const owners: Array<{ readonly name: string; readonly owner: ProcessIdentity }> = []
    for (const name of names) {
      const owner = readWorkerIdentity(join(base, name))
      if (owner === undefined || taskWorkers.some((w) => sameProcess(w, owner))) continue
      if (yield* isAlive(owner)) owners.push({ name, owner })
    }
    return yield* Effect.forEach(
      owners,
      ({ name, owner }) =>
        Effect.gen(function* () {
          yield* signalIfSame(owner, "SIGTERM")
          if (yield* waitGone(owner, timeoutMs)) {
            return {
              id: name,
              status: "killed",
              message: `A start without a task yet (worker ${owner.pid}) was stopped; it will not run.`,
            } satisfies StopReport
          }
          yield* signalIfSame(owner, "SIGKILL")
          yield* waitGone(owner, 5_000)
          return {
            id: name,
            status: "killed",
            message: `A start without a task yet (worker ${owner.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s; killed.`,
          } satisfies StopReport
        }),
      { concurrency: "unbounded" },
    )
  })
