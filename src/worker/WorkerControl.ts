import { Context, Deferred, Effect, Option } from "effect"
import { type SleepSteps, sleepFor, sleepUntil } from "../domain/longSleep.js"

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

/** Which stop ends a wait: any request (`"any"`, after-turn included) or only an immediate one. */
export type StopsWait = "any" | "now"

const signalOf = (control: WorkerControl["Type"], on: StopsWait) =>
  on === "now"
    ? { done: Deferred.isDone(control.stopNow), come: Deferred.await(control.stopNow) }
    : { done: Deferred.isDone(control.stopRequested), come: Deferred.await(control.stopRequested) }

/** Whether a stop was requested (`on`: any request, the default, or an immediate one). */
export const isStopping = (on: StopsWait = "any"): Effect.Effect<boolean, never, WorkerControl> =>
  Effect.flatMap(WorkerControl, (control) => signalOf(control, on).done)

/**
 * Runs `effect` unless a stop (`on`) comes first: `Some` of its value, or `None` when a stop had
 * been requested already (it does not start) or came while it ran (it is interrupted).
 */
export const unlessStopped = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  on: StopsWait = "any",
): Effect.Effect<Option.Option<A>, E, R | WorkerControl> =>
  Effect.flatMap(WorkerControl, (control) => {
    const stop = signalOf(control, on)
    return Effect.flatMap(stop.done, (stopped) =>
      stopped
        ? Effect.succeedNone
        : Effect.raceFirst(Effect.asSome(effect), Effect.as(stop.come, Option.none<A>())),
    )
  })

/** A wait: so many milliseconds, or until the wall clock reads `untilMs` (epoch ms). */
export type WaitFor = { readonly ms: number } | { readonly untilMs: number }

/**
 * The one way the worker waits (retry backoff, usage-limit waits): sleeps in wall-clock steps
 * (`domain/longSleep.ts`) unless a stop (`on`, default any) ends it at once; true when it did.
 */
export const sleepUnlessStopped = (
  wait: WaitFor,
  options: SleepSteps & { readonly on?: StopsWait } = {},
): Effect.Effect<boolean, never, WorkerControl> =>
  Effect.map(
    unlessStopped(
      "ms" in wait ? sleepFor(wait.ms, options) : sleepUntil(wait.untilMs, options),
      options.on,
    ),
    Option.isNone,
  )
