/**
 * The turn watchdog: `--stall-timeout` (no stdout line for that long while no command
 * item is in progress) and `--turn-timeout` (the turn ran that long). On Effect's `Clock`, so
 * `TestClock` drives it; a limit past a timer's 24.8 days is slept in steps (`domain/longSleep.ts`).
 */
import { Clock, Effect, Option, Stream, type SubscriptionRef } from "effect"
import { isItemEvent, isUnknownItem } from "../domain/events.js"
import { sleepFor } from "../domain/longSleep.js"
import type { ExecLine } from "../exec/decode.js"

/** Why the watchdog cut a turn. */
export type Cut = "stalled" | "timed_out"

/** The watchdog's settings (absent = off). */
export interface WatchLimits {
  readonly stallTimeoutMs?: number | undefined
  readonly turnTimeoutMs?: number | undefined
  /**
   * How many of codex's requests are waiting for a person's answer (`--approvals ask`): while
   * any is, neither timer runs (a turn waiting for `approve` is neither slow nor stalled).
   */
  readonly held?: SubscriptionRef.SubscriptionRef<number> | undefined
}

/** Until `held` reads 0 (at once when it does). */
const untilFree = (held: SubscriptionRef.SubscriptionRef<number>) =>
  Stream.runHead(Stream.filter(held.changes, (n) => n === 0))

/** Until `held` reads more than 0. */
const untilHeld = (held: SubscriptionRef.SubscriptionRef<number>) =>
  Stream.runHead(Stream.filter(held.changes, (n) => n > 0))

/** Sleeps `ms` of time during which `held` is 0: the clock stops while it is held. */
export const sleepUnheld = (
  ms: number,
  held: SubscriptionRef.SubscriptionRef<number> | undefined,
): Effect.Effect<void> =>
  held === undefined
    ? sleepFor(ms)
    : Effect.gen(function* () {
        let left = ms
        for (;;) {
          yield* untilFree(held)
          const from = yield* Clock.currentTimeMillis
          const ended = yield* Effect.raceFirst(
            Effect.as(sleepFor(left), true),
            Effect.as(untilHeld(held), false),
          )
          if (ended) return
          left -= (yield* Clock.currentTimeMillis) - from
          if (left <= 0) return
        }
      })

const commandItem = (line: ExecLine): { id: string; started: boolean } | undefined => {
  if (line._tag !== "Event" || !isItemEvent(line.event)) return undefined
  const { type, item } = line.event
  if (type === "item.updated" || isUnknownItem(item) || item.type !== "command_execution") {
    return undefined
  }
  return { id: item.id, started: type === "item.started" }
}

/**
 * After each stdout line (and at the start), whether a command item is in progress: codex prints
 * nothing while a command runs, and a long `sleep` in a command is not a stall.
 */
export const busyStates = <E, R>(lines: Stream.Stream<ExecLine, E, R>) =>
  Stream.concat(
    Stream.make(false),
    Stream.mapAccum(lines, new Set<string>(), (running, line) => {
      const item = commandItem(line)
      if (item === undefined) return [running, running.size > 0]
      const next = new Set(running)
      if (item.started) next.add(item.id)
      else next.delete(item.id)
      return [next, next.size > 0]
    }),
  )

/**
 * Completes with the reason once the turn has to be cut: `stalled` after `stallTimeoutMs` without
 * a line while no command runs, `timed_out` after `turnTimeoutMs`; time `held` does not count. Never completes otherwise
 * (also not when `lines` ends: the caller stops watching when the run ends).
 */
export const watchTurn = <E, R>(
  lines: Stream.Stream<ExecLine, E, R>,
  limits: WatchLimits,
): Effect.Effect<Cut, E, R> => {
  const timeout =
    limits.turnTimeoutMs === undefined
      ? Effect.never
      : Effect.as(sleepUnheld(limits.turnTimeoutMs, limits.held), "timed_out" as const)
  const stall = limits.stallTimeoutMs
  if (stall === undefined) return timeout
  const stalled = busyStates(lines).pipe(
    Stream.flatMap(
      (busy) => (busy ? Stream.never : Stream.fromEffect(sleepUnheld(stall, limits.held))),
      {
        switch: true,
      },
    ),
    Stream.runHead,
    Effect.flatMap((o) => (Option.isSome(o) ? Effect.succeed("stalled" as const) : Effect.never)),
  )
  return Effect.raceFirst(timeout, stalled)
}
