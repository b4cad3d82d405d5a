/**
 * `status --wait` / `--wait-any` with `--cluster`: the named tasks (or all, or all running) are
 * asked of their hosts once a second until all (or one) of them no longer run; the output and
 * exit codes are local mode's (3 when a finished task ended badly, 124 past `--timeout`).
 */
import { Effect } from "effect"
import { listFleet, type Placed, resolveTask, statusOf } from "../cluster/client.js"
import { ExitCode, ExitWith } from "../domain/exit.js"
import type { TaskJson } from "../domain/wire.js"
import { renderFleetStatus } from "../render/fleet.js"
import type { TimeFormat } from "../render/time.js"
import { printJson, printLine, printNote } from "./Printer.js"

const POLL_MS = 1_000

const endedBadly = (t: TaskJson) =>
  t.state === "DIED" || t.outcome?.kind === "failed" || t.outcome?.kind === "worker_lost"

/** Waits for the selected tasks of the fleet to finish, then shows the finished ones. */
export const fleetWait = (
  refs: ReadonlyArray<string> | "all" | "running",
  o: {
    readonly mode: "all" | "any"
    readonly timeoutSeconds: number | undefined
    readonly json: boolean
    readonly timeFormat: TimeFormat
  },
) =>
  Effect.gen(function* () {
    const selected: Array<Placed> =
      refs === "all" || refs === "running"
        ? (yield* listFleet(false))
            .filter((t) => refs === "all" || t.state === "RUNNING")
            .map((t) => ({ id: t.id, host: t.host ?? "" }))
        : yield* Effect.forEach(refs, resolveTask)
    if (selected.length === 0) return
    const deadline =
      o.timeoutSeconds === undefined ? undefined : Date.now() + o.timeoutSeconds * 1000
    let finished: Array<TaskJson> = []
    for (;;) {
      const now = yield* Effect.forEach(selected, statusOf, { concurrency: 8 })
      finished = now.filter((t) => t.state !== "RUNNING")
      const enough = o.mode === "all" ? finished.length === now.length : finished.length > 0
      if (enough) break
      if (deadline !== undefined && Date.now() >= deadline) {
        return yield* new ExitWith({
          code: ExitCode.Timeout,
          message: `timed out after ${o.timeoutSeconds} s waiting for ${selected.length === 1 ? "the task" : "the tasks"}`,
        })
      }
      yield* Effect.sleep(
        deadline === undefined ? POLL_MS : Math.max(0, Math.min(POLL_MS, deadline - Date.now())),
      )
    }
    for (const t of finished) yield* printNote(`Task ${t.id} finished: ${t.state}`)
    const single = refs !== "all" && refs !== "running" && refs.length === 1
    if (o.json) {
      if (single && finished[0] !== undefined) yield* printJson(finished[0])
      else if (!single) yield* printJson(finished)
    } else if (finished.length > 0) {
      yield* printLine(finished.map((t) => renderFleetStatus(t, o.timeFormat)).join("\n\n"))
    }
    if (finished.some(endedBadly)) {
      return yield* new ExitWith({ code: ExitCode.TaskFailed, message: "" })
    }
  })
