import { Deferred, Effect, Option } from "effect"
import type { ExecError } from "../domain/errors.js"
import type { InboxEntry } from "../store/inbox.js"
import type { TaskLocation } from "../store/TaskStore.js"
import { type WorkerEnv, waitingOutLock } from "./env.js"
import { finalState } from "./rules.js"

/**
 * Ends the worker's work on the task, under the task lock: queued prompts are dropped (visibly,
 * with the reason) when a stop was requested or the task failed for good, the task takes its final
 * state, and the worker record is removed. A `send` racing with this either queued its prompt
 * before (dropped here, or seen by `takeNext`) or finds no worker afterwards and starts one.
 */
const finishLocked = (env: WorkerEnv, loc: TaskLocation, failure?: ExecError) =>
  Effect.gen(function* () {
    const stopping = yield* Deferred.isDone(env.control.stopRequested)
    if (stopping) yield* env.store.dropQueued(loc)
    else if (failure !== undefined) {
      yield* env.store.dropQueued(loc, `the task failed (${failure._tag}): ${failure.message}`)
    }
    yield* env.store.update(loc, (m) => ({ ...m, state: finalState(m.last_outcome) }))
    yield* env.store.clearWorker(loc, env.self)
  })

/**
 * The next queued prompt, taken for delivery (it stays on disk, in flight, until its turn is
 * recorded); none when the inbox is empty or a stop was requested, in which case the task is
 * finished in the same locked section.
 */
export const takeNext = (env: WorkerEnv, loc: TaskLocation) =>
  waitingOutLock(
    env.store.withLock(
      loc,
      Effect.gen(function* () {
        if (!(yield* Deferred.isDone(env.control.stopRequested))) {
          const next = yield* env.store.inboxTake(loc)
          if (Option.isSome(next)) return next
        }
        yield* finishLocked(env, loc)
        return Option.none<InboxEntry>()
      }),
    ),
  )

/** Ends the task after a prompt failed for good: DIED, and no queued prompt reaches codex. */
export const finishAfterFailure = (env: WorkerEnv, loc: TaskLocation, error: ExecError) =>
  waitingOutLock(env.store.withLock(loc, finishLocked(env, loc, error)))
