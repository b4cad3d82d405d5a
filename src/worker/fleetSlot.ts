/**
 * The worker's fleet-wide run slot: a task started or sent to through the fleet with
 * `--max-running N` carries N, and each of its codex invocations also holds one of N slots of
 * the whole fleet (`worker/fleetSlotLocks.ts`: PostgreSQL advisory locks on the worker's own
 * connection, freed when the worker or its host dies). The fleet's URL comes from the runner's
 * environment (`CODEX_TASKS_CLUSTER`), which the worker removes from its own before codex starts.
 */
import { Context, Effect, Layer, Random, Schedule } from "effect"
import { redactUrl, redactUrlIn } from "../domain/notify.js"
import { FLEET_URL_VAR } from "../launcher/requestExtras.js"

/** The fleet-wide limit of this worker's task and where the fleet's slots are. */
export interface FleetRunSlotsConfig {
  readonly limit: number
  /** The fleet's PostgreSQL URL (never printed or logged: see `redactUrl`). */
  readonly url: string
}

/** The fleet-wide slot limit of this worker; absent: its invocations wait for no fleet slot. */
export class FleetRunSlots extends Context.Tag("codex-tasks/FleetRunSlots")<
  FleetRunSlots,
  FleetRunSlotsConfig
>() {
  /** The gate for `limit` slots of the fleet at `url`. */
  static readonly layer = (config: FleetRunSlotsConfig) => Layer.succeed(FleetRunSlots, config)
}

/**
 * Takes the fleet's URL out of this process's environment (codex, its commands and hooks never
 * see the password) and returns the fleet gate for `limit` (none without a limit or a URL).
 */
export const fleetSlotsFromEnv = (
  limit: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Layer.Layer<never> | Layer.Layer<FleetRunSlots> => {
  const url = env[FLEET_URL_VAR]
  delete env[FLEET_URL_VAR]
  if (limit === undefined || limit <= 0 || url === undefined || url === "") return Layer.empty
  return FleetRunSlots.layer({ limit, url })
}

/** How often a waiter tries the slots again (ms; plus up to half of it as jitter). */
export const FLEET_SLOT_RETRY_MS = 1_000

/** How often a held slot's connection is checked (a broken one no longer holds the slot). */
export const LOST_CHECK_MS = 1_000

/** What a fleet slot wait reports: slots held fleet-wide and the limit. */
export interface FleetSlotWait {
  readonly held: number
  readonly limit: number
}

/** What happened to the fleet's database while a slot was wanted, for the task's log. */
export type FleetSlotTrouble = (message: string) => Effect.Effect<void>

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

// Loaded on first use only: the worker bundle has no Postgres client (scripts/build.mjs).
const loadFleetSlots = () => import("./fleetSlotLocks.js")

/**
 * Holds a fleet slot of `config` for the current scope, waiting (retrying every
 * `FLEET_SLOT_RETRY_MS`) while all are held; `onWait` is told once. While the fleet's database
 * cannot be reached the wait goes on (told once through `trouble`): an outage must not let the
 * fleet run more than its limit. Interrupting the wait (a stop) leaves nothing held.
 */
export const holdFleetSlot = (
  config: FleetRunSlotsConfig,
  onWait: (wait: FleetSlotWait) => Effect.Effect<void>,
  trouble: FleetSlotTrouble,
) =>
  Effect.gen(function* () {
    const module = yield* Effect.tryPromise(loadFleetSlots)
    const pause = Effect.flatMap(Random.nextIntBetween(0, FLEET_SLOT_RETRY_MS / 2), (jitter) =>
      Effect.sleep(FLEET_SLOT_RETRY_MS + jitter),
    )
    let waited = false
    let troubled = false
    const tell = (e: unknown) =>
      troubled
        ? Effect.void
        : Effect.zipRight(
            Effect.sync(() => {
              troubled = true
            }),
            trouble(
              `the fleet's PostgreSQL (${redactUrl(config.url)}) cannot be reached (${redactUrlIn(messageOf(e), config.url)}): waiting for it to take a fleet run slot`,
            ),
          )
    for (;;) {
      const connection = yield* Effect.acquireRelease(
        Effect.tryPromise(() => module.connectFleetSlots(config.url)),
        (c) => Effect.promise(c.close),
      ).pipe(Effect.either)
      if (connection._tag === "Left") {
        yield* tell(connection.left)
        yield* pause
        continue
      }
      const c = connection.right
      for (;;) {
        const slot = yield* Effect.tryPromise(() => c.tryTake(config.limit)).pipe(Effect.either)
        if (slot._tag === "Left") break
        if (slot.right !== undefined) {
          // Held until the scope closes; a connection that breaks meanwhile lost the slot: said once.
          yield* Effect.forkScoped(
            Effect.repeat(Effect.sync(c.lost), {
              schedule: Schedule.spaced(LOST_CHECK_MS),
              until: (lost) => lost,
            }).pipe(
              Effect.zipRight(
                trouble(
                  "the connection to the fleet's PostgreSQL broke: this run no longer holds a fleet run slot",
                ),
              ),
            ),
          )
          return slot.right
        }
        if (!waited) {
          waited = true
          const held = yield* Effect.tryPromise(() => c.held(config.limit)).pipe(
            Effect.orElseSucceed(() => config.limit),
          )
          yield* onWait({ held, limit: config.limit })
        }
        yield* pause
      }
      yield* Effect.promise(c.close)
      yield* tell(new Error("the connection broke"))
      yield* pause
    }
  }).pipe(
    // A worker bundle without the fleet's module is broken, not busy: it runs without the slot.
    Effect.catchAll((e) => Effect.as(trouble(`fleet run slot unavailable: ${messageOf(e)}`), -1)),
  )
