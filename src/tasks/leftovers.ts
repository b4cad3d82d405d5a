import { Effect, Option } from "effect"
import { killRun, liveOf, type RunProcesses } from "../processes/control.js"
import type { RunRecord } from "../store/runRecord.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"

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

/** The processes of the task's last worker that still run (its codex and their commands). */
export const leftoversOf = (loc: TaskLocation) => Effect.flatMap(runProcessesOf(loc), liveOf)

/** Kills every process left by the task's last worker; returns how many were killed. */
export const endLeftovers = (loc: TaskLocation) => Effect.flatMap(runProcessesOf(loc), killRun)
