/**
 * A client's wait that may rightly last long (a start waiting for a fleet-wide run slot): no
 * deadline, but it ends with an error as soon as the host's runner is no longer live.
 */
import { Effect, Schedule } from "effect"
import { FleetError } from "./protocol.js"
import { hosts, LIVE_WITHIN_MS } from "./registry.js"

/** How often the host's heartbeat is looked at during such a wait. */
export const LIVENESS_CHECK_MS = 5_000

/** `effect`, unless `host` stops being live first (then a `FleetError` naming `what`). */
export const whileHostLive = <A, E, R>(
  what: string,
  host: string,
  effect: Effect.Effect<A, E, R>,
) =>
  Effect.raceFirst(
    effect,
    hosts.pipe(
      Effect.map((all) => all.some((h) => h.host === host && h.live)),
      Effect.orElseSucceed(() => true),
      Effect.repeat({
        schedule: Schedule.spaced(LIVENESS_CHECK_MS),
        while: (live) => live,
      }),
      Effect.zipRight(
        Effect.fail(
          new FleetError({
            message: `host ${host} stopped answering while waiting for ${what} (no heartbeat for ${LIVE_WITHIN_MS / 1000} s).`,
            usage: false,
          }),
        ),
      ),
    ),
  )
