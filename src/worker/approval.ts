import { Clock, Effect, Either, Option } from "effect"
import { workerNote } from "../domain/logEntries.js"
import { nowTimestamp, type TaskMeta } from "../domain/task.js"
import type { ApprovalReply, ApprovalRequest } from "../exec/CodexExec.js"
import { removeApprovalAnswer, takeApprovalAnswer } from "../store/approvals.js"
import type { TaskLocation } from "../store/TaskStore.js"
import { WorkerEnv } from "./env.js"
import { notifyTask } from "./notify.js"
import type { TaskLog } from "./taskLog.js"
import { isStopping } from "./WorkerControl.js"

const POLL_MS = 250
const LOCATION_POLL_MS = 20

/** What `waiting.for` says while codex waits on `r`. */
export const waitingFor = (r: ApprovalRequest): "approval" | "permission" | "input" =>
  r.kind === "permission" ? "permission" : r.kind === "input" ? "input" : "approval"

/** What was asked, in one line: the command, files, permissions or questions, and codex's reason. */
export const describeRequest = (r: ApprovalRequest): string => {
  const questions = (r.questions ?? []).map((q) =>
    q.options === undefined || q.options.length === 0
      ? q.question
      : `${q.question} [${q.options.join("|")}]`,
  )
  const what =
    r.command ??
    r.files?.join(", ") ??
    (r.permissions !== undefined && r.permissions.length > 0
      ? r.permissions.join(", ")
      : undefined) ??
    (questions.length > 0 ? questions.join("; ") : undefined)
  if (what === undefined) return r.reason ?? r.kind
  return r.reason === undefined || r.reason === "" ? what : `${what} (${r.reason})`
}

const storedRequest = (r: ApprovalRequest) =>
  JSON.parse(JSON.stringify(r)) as {
    readonly kind: string
  }

const DECLINE: ApprovalReply = { decision: "decline" }

/** Polls for `approve` / `decline`'s answer until there is one, a stop, or `timeoutMs`. */
const answerOf = (loc: TaskLocation, kind: ReturnType<typeof waitingFor>, timeoutMs?: number) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    for (;;) {
      const answer = yield* takeApprovalAnswer(loc.dir)
      if (Option.isSome(answer)) {
        const { decision, answers } = answer.value
        const said =
          decision === "decline"
            ? `declined${answer.value.message === undefined ? "" : `: ${answer.value.message}`}`
            : kind === "input"
              ? "answered"
              : `approved${decision === "acceptForSession" ? " for the session" : ""}`
        const reply: ApprovalReply = answers === undefined ? { decision } : { decision, answers }
        return { reply, message: answer.value.message, said }
      }
      if (yield* isStopping("now"))
        return { reply: DECLINE, message: undefined, said: "declined (the task is stopping)" }
      const now = yield* Clock.currentTimeMillis
      if (timeoutMs !== undefined && now - start >= timeoutMs) {
        const said = `declined: no answer within ${Math.round(timeoutMs / 1000)} s (--approval-timeout)`
        return { reply: DECLINE, message: undefined, said }
      }
      yield* Effect.sleep(POLL_MS)
    }
  })

/**
 * Answers one request of codex: the task shows `waiting: {for: "approval" | "permission" |
 * "input", request}` until `approve` / `decline` leave an answer, `timeoutMs` passes (declined),
 * or a stop (declined; the turn is being interrupted anyway); a turn that ends first takes
 * the request with it (`waiting` cleared, "withdrawn" in the log). The request and the answer go to
 * the log (an input's answers do not: they may be secrets). A decline's message goes to
 * `tell` once codex has the decline (`afterAnswer`).
 */
export const awaitApproval = (
  log: TaskLog,
  request: ApprovalRequest,
  timeoutMs: number | undefined,
  tell: (message: string) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    // A start's first turn can ask before its task is published (codex asks within milliseconds
    // of reporting the thread): wait for the task rather than decline unseen.
    let loc: TaskLocation | undefined
    while (loc === undefined) {
      const at = yield* log.location
      if (Option.isSome(at) && Either.isRight(yield* Effect.either(env.store.read(at.value)))) {
        loc = at.value
        break
      }
      if (yield* isStopping("now")) return DECLINE
      yield* Effect.sleep(LOCATION_POLL_MS)
    }
    const kind = waitingFor(request)
    yield* removeApprovalAnswer(loc.dir)
    const setWaiting = env.updateMeta(loc, (m) => ({
      ...m,
      waiting: { for: kind, since: nowTimestamp(), request: storedRequest(request) },
    }))
    const waitForAnswer = (waiting: TaskMeta) =>
      Effect.gen(function* () {
        yield* log.write(workerNote(`${kind} requested: ${describeRequest(request)}`))
        // --on-finish and --webhook hear of it too (event approval_requested), without holding it up.
        yield* Effect.forkDaemon(notifyTask(env.store, loc, waiting, "approval_requested"))
        return yield* answerOf(loc, kind, timeoutMs)
      })
    // From the moment `waiting` is written: a turn that ends first (codex gone, the run over)
    // takes its request with it, and the record goes too.
    const { reply, message, said } = yield* Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(setWaiting, (waiting) =>
        restore(waitForAnswer(waiting)).pipe(
          Effect.onInterrupt(() =>
            Effect.zipRight(
              env.updateMeta(loc, ({ waiting: _, ...m }) => m),
              log.write(workerNote(`${kind} withdrawn: the turn ended before an answer`)),
            ).pipe(Effect.ignore),
          ),
        ),
      ),
    )
    yield* env.updateMeta(loc, ({ waiting: _, ...m }) => m)
    yield* log.write(workerNote(`${kind} ${said}`))
    if (message !== undefined && message.trim() !== "") {
      return { ...reply, afterAnswer: tell(message) } satisfies ApprovalReply
    }
    return reply
  })
