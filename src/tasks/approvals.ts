import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import { nowTimestamp, type TaskWaiting, waitsForAnswer } from "../domain/task.js"
import { type ApprovalAnswer, writeApprovalAnswer } from "../store/approvals.js"
import { TaskStore } from "../store/TaskStore.js"
import { InvalidTaskState } from "./errors.js"

type Request = NonNullable<TaskWaiting["request"]>

/**
 * The answers to a request for input, checked against its questions: one per question, in order;
 * a question with choices takes one of their labels (any case) unless it accepts other text.
 * Returns the answers as codex gets them (labels as codex wrote them) or why they do not fit.
 */
export const fitAnswers = (
  request: Request | undefined,
  answers: ReadonlyArray<string>,
): { readonly answers: ReadonlyArray<string> } | { readonly problem: string } => {
  const questions = request?.questions ?? []
  if (answers.length !== questions.length) {
    const asked = questions.map((q, k) => `${k + 1}. ${q.question}`).join("; ")
    return {
      problem:
        questions.length === 0
          ? "it asks no questions: approve it without --answer"
          : `it asks ${questions.length} question${questions.length === 1 ? "" : "s"} (${asked}); give one --answer for each, in order (${answers.length} given)`,
    }
  }
  const fitted: Array<string> = []
  for (const [k, q] of questions.entries()) {
    const given = answers[k] ?? ""
    const label = q.options?.find((o) => o.toLowerCase() === given.trim().toLowerCase())
    if (label !== undefined) fitted.push(label)
    else if (q.other === true || q.options === undefined || q.options.length === 0)
      fitted.push(given)
    else
      return {
        problem: `answer ${k + 1} (${given}) is not one of the choices of "${q.question}": ${q.options.join(", ")}`,
      }
  }
  return { answers: fitted }
}

/**
 * `approve` / `decline`: leaves the answer to the task's pending request for its worker (under
 * the task lock, only while the task is RUNNING and waiting for approval, permission or input).
 * A request for input takes `answers` (`approve --answer`); other requests refuse them.
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
        const waiting = meta.waiting
        if (meta.state !== "RUNNING" || !waitsForAnswer(waiting) || alive !== true) {
          return yield* new InvalidTaskState({
            message: `Task ${loc.id} is not waiting for an approval or an answer.`,
          })
        }
        let given = answer
        if (answer.decision !== "decline") {
          const isInput = waiting?.for === "input"
          if (!isInput && answer.answers !== undefined) {
            return yield* new UsageError({
              message: `Task ${loc.id} waits for ${waiting?.for}, not for input: approve it without --answer.`,
            })
          }
          if (isInput) {
            const fit = fitAnswers(waiting?.request, answer.answers ?? [])
            if ("problem" in fit) {
              return yield* new UsageError({
                message: `Task ${loc.id} waits for input, but ${fit.problem}.`,
              })
            }
            given = { ...answer, answers: fit.answers }
          }
        }
        yield* writeApprovalAnswer(loc.dir, { ...given, at: nowTimestamp() })
        return { id: loc.id, waiting: waiting?.for, request: waiting?.request }
      }),
    )
  })
