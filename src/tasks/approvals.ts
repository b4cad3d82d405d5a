import { Effect } from "effect"
import { nowTimestamp } from "../domain/task.js"
import { type ApprovalAnswer, writeApprovalAnswer } from "../store/approvals.js"
import { TaskStore } from "../store/TaskStore.js"
import { InvalidTaskState } from "./errors.js"

/**
 * `approve` / `decline`: leaves the answer to the task's pending approval request for its worker
 * (under the task lock, only while the task is RUNNING and waiting for approval).
 */
export const answerApproval = (ref: string, answer: Omit<ApprovalAnswer, "at">) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(ref)
    return yield* store.withLock(
      loc,
      Effect.gen(function* () {
        const meta = yield* store.read(loc)
        const alive = yield* store.workerAlive(loc)
        if (meta.state !== "RUNNING" || meta.waiting?.for !== "approval" || alive !== true) {
          return yield* new InvalidTaskState({
            message: `Task ${loc.id} is not waiting for an approval.`,
          })
        }
        yield* writeApprovalAnswer(loc.dir, { ...answer, at: nowTimestamp() })
        return { id: loc.id, request: meta.waiting.request }
      }),
    )
  })
