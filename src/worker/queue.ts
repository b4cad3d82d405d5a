import { Effect, Option } from "effect"
import type { ExecError } from "../domain/errors.js"
import { workerNote } from "../domain/logEntries.js"
import { budgetSpent, tokensUsed } from "../domain/policy.js"
import { nowTimestamp } from "../domain/task.js"
import type { InboxEntry } from "../store/inbox.js"
import type { TaskLocation } from "../store/TaskStore.js"
import type { TurnRecord } from "./attempt.js"
import { WorkerEnv, waitingOutLock } from "./env.js"
import { claimFinished } from "./notify.js"
import { finalState } from "./rules.js"
import { isStopping } from "./WorkerControl.js"

/**
 * Ends the worker's work on the task, under the task lock: queued prompts are dropped (visibly,
 * with the reason) when a stop was requested or the task failed for good, the notification is
 * claimed, the task takes its final state, and the worker record is removed. A `send` racing with this either queued its prompt
 * before (dropped here, or seen by `takeNext`) or finds no worker afterwards and starts one.
 */
const finishLocked = (loc: TaskLocation, failure?: ExecError) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const stopping = yield* isStopping()
    if (stopping) yield* env.store.dropQueued(loc)
    else if (failure !== undefined) {
      yield* env.store.dropQueued(loc, `the task failed (${failure._tag}): ${failure.message}`)
    }
    // The notification is claimed before the task leaves RUNNING: whoever sees it ended sees
    // that it is still to be notified.
    yield* claimFinished(loc)
    yield* env.store.update(loc, (m) => ({ ...m, state: finalState(m.last_outcome) }))
    yield* env.store.clearWorker(loc, env.self)
  })

/**
 * `--max-tokens`: once the thread's input + output tokens reached the budget, no turn starts;
 * queued prompts are dropped with reason `budget` and the outcome says why (under the lock).
 */
const dropForBudget = (loc: TaskLocation) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const meta = yield* env.store.read(loc)
    if (!budgetSpent(meta.limits, meta.usage)) return
    const dropped = yield* env.store.dropQueued(loc, "budget")
    if (dropped === 0) return
    const message = `the thread used ${tokensUsed(meta.usage)} tokens, the budget is ${meta.limits?.max_tokens} (--max-tokens): ${dropped} queued prompt(s) dropped`
    yield* env.store.appendLog(loc, workerNote(message))
    yield* env.store.update(loc, (m) => ({
      ...m,
      last_outcome: { kind: "budget_exhausted", message, at: nowTimestamp() },
    }))
  })

/** The queued prompt whose turn just ended, and what its turn records (`PromptResult.record`). */
export interface FinishedPrompt {
  readonly seq: number
  readonly record?: TurnRecord | undefined
}

/**
 * The next queued prompt, taken for delivery (it stays on disk, in flight, until its turn is
 * recorded); none when the inbox is empty or a stop was requested, in which case the task is
 * finished in the same locked section. `finished`: the prompt whose turn just ended: its record
 * and its being done are written first, under the same lock; in the everyday case (no stop, the
 * budget not spent) in the same `task.json` write that takes the next prompt.
 */
export const takeNext = (loc: TaskLocation, finished?: FinishedPrompt) =>
  Effect.flatMap(WorkerEnv, (env) =>
    waitingOutLock(
      env.store.withLock(
        loc,
        Effect.gen(function* () {
          const stopping = yield* isStopping()
          if (finished !== undefined) {
            const stored = yield* env.store.read(loc)
            // The budget counts the finished turn's usage (its record may carry it).
            const meta = finished.record === undefined ? stored : finished.record(stored)
            if (!stopping && !budgetSpent(meta.limits, meta.usage)) {
              const next = yield* env.store.inboxAdvance(loc, finished.seq, finished.record)
              if (Option.isSome(next)) return next
              yield* finishLocked(loc)
              return Option.none<InboxEntry>()
            }
            yield* env.store.inboxFinish(loc, finished.seq, finished.record)
          }
          if (!stopping) {
            yield* dropForBudget(loc)
            const next = yield* env.store.inboxTake(loc)
            if (Option.isSome(next)) return next
          }
          yield* finishLocked(loc)
          return Option.none<InboxEntry>()
        }),
      ),
    ),
  )

/**
 * Ends the task after a prompt failed for good: DIED, and no queued prompt reaches codex. With
 * `seq`, the failed prompt's turn is recorded done in the same locked section, so no reader sees
 * the turn over while the task still reads RUNNING.
 */
export const finishAfterFailure = (loc: TaskLocation, error: ExecError, seq?: number) =>
  Effect.flatMap(WorkerEnv, (env) =>
    waitingOutLock(
      env.store.withLock(
        loc,
        seq === undefined
          ? finishLocked(loc, error)
          : Effect.zipRight(env.store.inboxFinish(loc, seq), finishLocked(loc, error)),
      ),
    ),
  )
