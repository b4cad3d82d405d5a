import { Effect, Option } from "effect"
import type { LeftoverProcessJson } from "../domain/wire.js"
import { killRun, liveOf, markedNow, type RunProcesses } from "../processes/control.js"
import { Processes } from "../processes/Processes.js"
import type { RunRecord } from "../store/runRecord.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import type { TaskView } from "./view.js"

/** What a `run.json` says belongs to its worker (nothing without a record). */
export const runProcesses = (record: Option.Option<RunRecord>): RunProcesses =>
  Option.match(record, {
    onNone: () => ({ identities: [] }),
    onSome: (r) => ({ marker: r.runId, identities: r.processes }),
  })

/** What `run.json` says belongs to the task's last worker. */
export const runProcessesOf = (loc: TaskLocation) =>
  Effect.map(
    Effect.flatMap(TaskStore, (store) => store.readRunRecord(loc)),
    runProcesses,
  )

/** Kills every process left by the task's last worker; returns how many were killed. */
export const endLeftovers = (loc: TaskLocation) => Effect.flatMap(runProcessesOf(loc), killRun)

/** A process a lost worker left running. */
export type LeftoverProcess = typeof LeftoverProcessJson.Type

/**
 * The views with `leftovers` filled in for each task without a live worker (a running task's
 * processes are its worker's, not leftovers); one pass over the process table for all of them.
 */
export const withLeftovers = (views: ReadonlyArray<TaskView>) =>
  Effect.gen(function* () {
    const processes = yield* Processes
    const store = yield* TaskStore
    const marked = yield* markedNow
    return yield* Effect.forEach(views, (view) =>
      view.state === "RUNNING" || view.loc.archived
        ? Effect.succeed({ ...view, leftovers: [] })
        : Effect.gen(function* () {
            // A worker that a `send` has just started is not a leftover.
            if ((yield* store.workerAlive(view.loc)) === true) return { ...view, leftovers: [] }
            const live = yield* liveOf(yield* runProcessesOf(view.loc), marked)
            const leftovers = yield* Effect.forEach(live, (p) =>
              Effect.map(processes.commandLine(p.pid), (c) => ({
                pid: p.pid,
                command: Option.getOrElse(c, () => ""),
              })),
            )
            return { ...view, leftovers } satisfies TaskView
          }),
    )
  })
