/**
 * Stall detection over a run's decoded stdout, on Effect's `Clock` (so `TestClock` drives it):
 * codex without a network prints `Reconnecting... waiting for network` every few seconds forever
 * (BEHAVIOR.md), and such a run has to be stopped by the caller.
 */
import { type Duration, Effect, Mailbox, Stream } from "effect"
import { isErrorEvent } from "../domain/events.js"
import type { ExecLine } from "./decode.js"

/** The message prefix of codex's endless no-network retry. */
export const RECONNECT_WAIT = "Reconnecting... waiting for network"

/** True for codex's `error` event `Reconnecting... waiting for network …`. */
export const isReconnectWait = (line: ExecLine): boolean => {
  if (line._tag !== "Event" || !isErrorEvent(line.event)) return false
  return line.event.message.startsWith(RECONNECT_WAIT)
}

/**
 * Emits once when `waiting` elements have been the only ones for `timeout`: the clock starts at
 * the first `waiting` element, and any other element stops it (the next `waiting` one starts it
 * again). Ends when the input ends, without emitting for a wait still in progress.
 */
export const stalls =
  <A>(waiting: (a: A) => boolean, timeout: Duration.DurationInput) =>
  <E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<void, E, R> =>
    self.pipe(
      Stream.map(waiting),
      // The end of the input counts as another element: it stops a clock still running.
      Stream.concat(Stream.make(false)),
      Stream.changes,
      Stream.flatMap((w) => (w ? Stream.fromEffect(Effect.sleep(timeout)) : Stream.empty), {
        switch: true,
      }),
    )

/** The moments a run has printed only `Reconnecting... waiting for network` for `timeout`. */
export const reconnectStalls = (timeout: Duration.DurationInput) =>
  stalls<ExecLine>(isReconnectWait, timeout)

/**
 * Watches a run's lines (scoped, in the background) and runs `onStall` once, the first time the
 * run has printed only `Reconnecting... waiting for network` for `timeoutMs` (default 120 s).
 */
export const watchReconnectStall = (
  lines: Mailbox.ReadonlyMailbox<ExecLine>,
  timeoutMs: number | undefined,
  onStall: Effect.Effect<void>,
) =>
  Mailbox.toStream(lines).pipe(
    reconnectStalls(timeoutMs ?? 120_000),
    Stream.take(1),
    Stream.runForEach(() => onStall),
    Effect.forkScoped,
  )
