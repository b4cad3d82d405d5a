import { Clock, Effect, Option } from "effect"
import { workerNote } from "../domain/logEntries.js"
import { nowTimestamp } from "../domain/task.js"
import type { ApprovalDecision, ApprovalRequest } from "../exec/CodexExec.js"
import { removeApprovalAnswer, takeApprovalAnswer } from "../store/approvals.js"
import { WorkerEnv } from "./env.js"
import { notifyTask } from "./notify.js"
import type { TaskLog } from "./taskLog.js"
import { isStopping } from "./WorkerControl.js"

const POLL_MS = 250

/** What was asked, in one line: the command or the files, and codex's reason. */
export const describeRequest = (r: ApprovalRequest): string => {
  const what = r.command ?? (r.files === undefined ? r.kind : r.files.join(", "))
  return r.reason === undefined ? what : `${what} (${r.reason})`
}

const storedRequest = (r: ApprovalRequest) =>
  Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as {
    readonly kind: string
  }

/**
 * Answers one approval request of codex: the task shows `waiting: {for: "approval", request}`
 * until `approve` / `decline` leave an answer, `timeoutMs` passes (declined), or a stop
 * (declined; the turn is being interrupted anyway). The request and the answer go to the log.
 */
export const awaitApproval = (log: TaskLog, request: ApprovalRequest, timeoutMs?: number) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const at = yield* log.location
    if (Option.isNone(at)) return "decline" as ApprovalDecision
    const loc = at.value
    yield* removeApprovalAnswer(loc.dir)
    const waiting = yield* env.updateMeta(loc, (m) => ({
      ...m,
      waiting: { for: "approval", since: nowTimestamp(), request: storedRequest(request) },
    }))
    yield* log.write(workerNote(`approval requested: ${describeRequest(request)}`))
    // --on-finish and --webhook hear of it too (event approval_requested), without holding it up.
    yield* Effect.forkDaemon(notifyTask(env.store, loc, waiting, "approval_requested"))
    const start = yield* Clock.currentTimeMillis
    let decision: ApprovalDecision = "decline"
    let said: string
    for (;;) {
      const answer = yield* takeApprovalAnswer(loc.dir)
      if (Option.isSome(answer)) {
        decision = answer.value.decision
        const message = answer.value.message === undefined ? "" : `: ${answer.value.message}`
        said =
          decision === "decline"
            ? `declined${message}`
            : `approved${decision === "acceptForSession" ? " for the session" : ""}`
        break
      }
      if (yield* isStopping("now")) {
        said = "declined (the task is stopping)"
        break
      }
      const now = yield* Clock.currentTimeMillis
      if (timeoutMs !== undefined && now - start >= timeoutMs) {
        said = `declined: no answer within ${Math.round(timeoutMs / 1000)} s (--approval-timeout)`
        break
      }
      yield* Effect.sleep(POLL_MS)
    }
    yield* env.updateMeta(loc, ({ waiting: _, ...m }) => m)
    yield* log.write(workerNote(`approval ${said}`))
    return decision
  })
