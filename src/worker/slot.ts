/**
 * The worker's side of run slots (`store/slots.ts`): each codex invocation takes a slot before
 * codex is spawned and gives it back when the invocation ends. While it waits, a task that exists
 * is `RUNNING` with `waiting: {for: "slot"}`; a start whose task does not exist yet tells the CLI
 * over the handshake pipe instead (a `WorkerNotice`, see `launcher/workerNotice.ts`).
 */
import { Context, Effect, Layer, Option } from "effect"
import { workerNote } from "../domain/logEntries.js"
import { nowTimestamp } from "../domain/task.js"
import type { WorkerNotice } from "../launcher/workerNotice.js"
import { type SlotWait, takeSlot } from "../store/slots.js"
import type { TaskLocation } from "../store/TaskStore.js"
import { WorkerEnv } from "./env.js"
import { FleetRunSlots, type FleetSlotWait, holdFleetSlot } from "./fleetSlot.js"
import type { TaskLog } from "./taskLog.js"
import { unlessStopped, type WorkerControl } from "./WorkerControl.js"

/** Settings of the slot gate: the store and the limit the worker was launched with. */
export interface RunSlotsConfig {
  readonly root: string
  readonly limit: number
  /** Tells whoever started the worker (a start still waiting for its handshake). */
  readonly notice: (notice: WorkerNotice) => Effect.Effect<void>
}

/** The slot limit of this worker; absent (no limit) means invocations never wait. */
export class RunSlots extends Context.Tag("codex-tasks/RunSlots")<RunSlots, RunSlotsConfig>() {
  /** The gate for `limit` slots of the store at `root` (no gate without a limit). */
  static readonly layer = (config: RunSlotsConfig) => Layer.succeed(RunSlots, config)
}

const waitingText = (w: SlotWait) =>
  `waiting for a run slot (${w.ahead} invocation${w.ahead === 1 ? "" : "s"} ahead, --max-running ${w.limit})`

const fleetWaitingText = (w: FleetSlotWait) =>
  `waiting for a fleet-wide run slot (${w.held} of ${w.limit} held across the fleet, --max-running ${w.limit})`

const gateAndEnv = Effect.all([
  Effect.serviceOption(RunSlots),
  WorkerEnv,
  Effect.serviceOption(FleetRunSlots),
])

/**
 * Runs `effect` (one codex invocation) holding a run slot when the worker has a limit. A stop
 * ("now") during the wait ends it without starting codex: `stopped` runs instead. The task's
 * `waiting` record lasts exactly as long as the wait, however it ends.
 */
export const withRunSlot = <A, E, R>(
  log: TaskLog,
  effect: Effect.Effect<A, E, R>,
  stopped: Effect.Effect<A, E, R>,
): Effect.Effect<A, E, R | WorkerEnv | WorkerControl> =>
  Effect.flatMap(gateAndEnv, ([gate, env, fleet]): Effect.Effect<A, E, R | WorkerControl> => {
    const local = Option.filter(gate, (g) => g.limit > 0)
    if (Option.isNone(local) && Option.isNone(fleet)) return effect
    // Where `waiting` was recorded (the task existed when the wait began).
    let recorded: Option.Option<TaskLocation> = Option.none()
    const onWait = (w: SlotWait, text: string) =>
      Effect.flatMap(log.location, (loc) =>
        Option.isNone(loc)
          ? Option.isSome(gate)
            ? gate.value.notice({ _tag: "Waiting", for: "slot", ahead: w.ahead, limit: w.limit })
            : Effect.void
          : Effect.zipRight(
              log.write(workerNote(text)),
              // Whole, so a stop cannot leave the record landing after its removal.
              Effect.uninterruptible(
                Effect.zipRight(
                  Effect.sync(() => (recorded = loc)),
                  env.updateMeta(loc.value, (m) => ({
                    ...m,
                    waiting: { for: "slot", since: nowTimestamp() },
                  })),
                ),
              ),
            ),
      ).pipe(Effect.ignore)
    const unrecord = Effect.suspend(() =>
      Option.isNone(recorded)
        ? Effect.void
        : env.updateMeta(recorded.value, (m) => {
            if (m.waiting?.for !== "slot") return m
            const { waiting: _, ...rest } = m
            return rest
          }),
    ).pipe(Effect.ignore)
    const localSlot = Option.match(local, {
      onNone: () => Effect.void,
      onSome: ({ root, limit }) =>
        takeSlot(root, limit, { onWait: (w) => onWait(w, waitingText(w)), runId: env.runId }).pipe(
          Effect.asVoid,
          // A store that cannot keep tickets must not stop the task: it runs without a slot.
          Effect.catchAll((e) => log.write(workerNote(`run slot unavailable: ${e.message}`))),
          Effect.ignore,
        ),
    })
    // The machine's slot first, then the fleet's: a task waiting for its machine holds no slot
    // another machine could use.
    const fleetSlot = Option.match(fleet, {
      onNone: () => Effect.void,
      onSome: (config) =>
        holdFleetSlot(
          config,
          (w) => onWait({ ahead: w.held, limit: w.limit }, fleetWaitingText(w)),
          (message) => log.write(workerNote(message)).pipe(Effect.ignore),
        ),
    })
    const slot = Effect.zipRight(localSlot, fleetSlot)
    const untilStop = unlessStopped(slot, "now").pipe(Effect.ensuring(unrecord))
    return Effect.scoped(
      Effect.flatMap(untilStop, (got) =>
        Option.isSome(got)
          ? effect
          : Effect.zipRight(
              log
                .write(
                  workerNote("stop requested while waiting for a run slot: codex was not started"),
                )
                .pipe(Effect.ignore),
              stopped,
            ),
      ),
    )
  })
