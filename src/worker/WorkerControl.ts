import { Context, Deferred, Effect } from "effect"

/** How a stop was asked for: interrupt the turn now, or let it finish first. */
export type StopMode = "now" | "after-turn"

/** Stop requests reaching a worker (from signals in the worker process, or from tests). */
export class WorkerControl extends Context.Tag("codex-tasks/WorkerControl")<
  WorkerControl,
  {
    /** Completed by any stop request (after-turn or now). */
    readonly stopRequested: Deferred.Deferred<StopMode>
    /** Completed by an immediate stop (also after an after-turn request). */
    readonly stopNow: Deferred.Deferred<void>
  }
>() {}

/** A fresh control and a function to request a stop through it. */
export const makeWorkerControl = Effect.gen(function* () {
  const stopRequested = yield* Deferred.make<StopMode>()
  const stopNow = yield* Deferred.make<void>()
  const request = (mode: StopMode) =>
    Effect.zipRight(
      Deferred.succeed(stopRequested, mode),
      mode === "now" ? Deferred.succeed(stopNow, undefined) : Effect.void,
    )
  return { control: { stopRequested, stopNow }, request }
})
