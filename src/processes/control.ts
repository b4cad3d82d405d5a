import { Clock, Effect, Option } from "effect"
import { identityKey, type ProcessIdentity, sameProcess } from "./identity.js"
import { Processes, RUN_MARKER_VAR } from "./Processes.js"

/** The processes that belong to one worker's runs: its marker's bearers and the identities seen. */
export interface RunProcesses {
  readonly marker?: string | undefined
  readonly identities: ReadonlyArray<ProcessIdentity>
}

/** True when `identity`'s pid is alive and still the same process (start time, boot). */
export const isAlive = (identity: ProcessIdentity) =>
  Effect.flatMap(Processes, (p) =>
    Effect.map(
      p.identify(identity.pid),
      (now) => Option.isSome(now) && sameProcess(identity, now.value),
    ),
  )

/** Signals `identity` only after checking that its pid still names that process. */
export const signalIfSame = (identity: ProcessIdentity, signal: NodeJS.Signals) =>
  Effect.gen(function* () {
    if (!(yield* isAlive(identity))) return false
    return yield* (yield* Processes).signal(identity.pid, signal)
  })

/** Waits until `identity` is gone; false when it still runs after `ms`. */
export const waitGone = (identity: ProcessIdentity, ms: number) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + ms
    while (yield* isAlive(identity)) {
      if ((yield* Clock.currentTimeMillis) >= deadline) return false
      yield* Effect.sleep("50 millis")
    }
    return true
  })

/** Live processes by run marker (one pass over the table, for checking many runs at once). */
export const markedNow = Effect.flatMap(Processes, (p) => p.withEnv(RUN_MARKER_VAR))

/**
 * The processes of a run that are still alive (verified identities, then the marker's bearers;
 * `marked` is a `markedNow` taken just before, when several runs are checked).
 */
export const liveOf = (
  run: RunProcesses,
  marked?: ReadonlyMap<string, ReadonlyArray<ProcessIdentity>>,
) =>
  Effect.gen(function* () {
    const found = new Map<string, ProcessIdentity>()
    for (const identity of run.identities) {
      if (yield* isAlive(identity)) found.set(identityKey(identity), identity)
    }
    if (run.marker !== undefined) {
      const byMarker = marked ?? (yield* markedNow)
      for (const identity of byMarker.get(run.marker) ?? [])
        found.set(identityKey(identity), identity)
    }
    return [...found.values()]
  })

const SWEEP_ROUNDS = 300

/**
 * SIGKILLs every live process of a run, again and again until none is left (a process may start
 * another while it is being killed; SIGKILL takes a moment), at most ~3 s. Each pid is checked
 * against its start time right before the signal, so a recycled pid is never hit. Returns how
 * many processes were killed.
 */
export const killRun = (run: RunProcesses) =>
  Effect.gen(function* () {
    const killed = new Set<string>()
    for (let round = 0; ; round++) {
      const alive = yield* liveOf(run)
      if (alive.length === 0 || round === SWEEP_ROUNDS) return killed.size
      if (round > 0) yield* Effect.sleep("10 millis")
      for (const identity of alive) {
        if (yield* signalIfSame(identity, "SIGKILL")) killed.add(identityKey(identity))
      }
    }
  })

/**
 * The processes of one run seen so far (`root` itself first): each `snapshot` adds the live descendants of `root` and
 * forgets the ones that died (a dead process cannot come back; a live orphan stays). `snapshot`
 * answers whether something new was seen.
 */
export const makeSeen = (root: number) =>
  Effect.gen(function* () {
    const processes = yield* Processes
    const seen = new Map<string, ProcessIdentity>()
    const self = yield* processes.identify(root)
    if (Option.isSome(self)) seen.set(identityKey(self.value), self.value)
    const snapshot = Effect.gen(function* () {
      let grew = false
      for (const identity of yield* processes.descendants(root)) {
        const key = identityKey(identity)
        if (!seen.has(key)) {
          seen.set(key, identity)
          grew = true
        }
      }
      for (const [key, identity] of seen) {
        if (!(yield* isAlive(identity))) seen.delete(key)
      }
      return grew
    }).pipe(Effect.provideService(Processes, processes))
    return { snapshot, current: Effect.sync(() => [...seen.values()]) }
  })
