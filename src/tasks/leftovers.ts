import { Effect, Option } from "effect"
import { killRun, liveOf, type RunProcesses } from "../processes/control.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"

/** What `run.json` says belongs to the task's last worker (nothing without a record). */
export const runProcessesOf = (loc: TaskLocation) =>
  Effect.gen(function* () {
    const record = yield* (yield* TaskStore).readRunRecord(loc)
    return Option.match(record, {
      onNone: (): RunProcesses => ({ identities: [] }),
      onSome: (r): RunProcesses => ({ marker: r.runId, identities: r.processes }),
    })
  })

/** The processes of the task's last worker that still run (its codex and their commands). */
export const leftoversOf = (loc: TaskLocation) => Effect.flatMap(runProcessesOf(loc), liveOf)

/** Kills every process left by the task's last worker; returns how many were killed. */
export const endLeftovers = (loc: TaskLocation) => Effect.flatMap(runProcessesOf(loc), killRun)
