import { Effect, Layer, Option } from "effect"
import type { ProcessIdentity } from "../processes/identity.js"
import { Processes, type ProcessesShape } from "../processes/Processes.js"

/** A process in the fake table. Unset fields: a fresh start time, parent 1, its own group. */
export interface FakeProcessSpec {
  readonly pid: number
  readonly startTime?: string | undefined
  readonly ppid?: number | undefined
  readonly pgid?: number | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly command?: string | undefined
  /** Signals it survives (SIGKILL cannot be ignored); any other signal ends it. */
  readonly ignores?: ReadonlyArray<NodeJS.Signals> | undefined
  /** Runs after each signal it receives (after it died of it, if it did). */
  readonly onSignal?: ((signal: NodeJS.Signals) => Effect.Effect<void>) | undefined
}

/** One delivered signal: the target as given (negative for a group) and the pid that got it. */
export interface FakeSignal {
  readonly target: number
  readonly pid: number
  readonly signal: NodeJS.Signals
}

/** A scripted process table: populate it, run the code under test, look at the signals. */
export interface FakeProcesses {
  /** The `Processes` service over this table. */
  readonly processes: ProcessesShape
  /** `processes` as a layer. */
  readonly layer: Layer.Layer<Processes>
  /** Adds a running process (its pid must not be alive); returns its identity. */
  readonly spawn: (spec: FakeProcessSpec) => Effect.Effect<ProcessIdentity>
  /** The process ends on its own (its children are reparented to pid 1). */
  readonly exit: (pid: number) => Effect.Effect<void>
  /** Every signal delivered so far, in order. */
  readonly signals: Effect.Effect<ReadonlyArray<FakeSignal>>
  /** Pids of the live processes. */
  readonly alive: Effect.Effect<ReadonlyArray<number>>
}

interface Entry {
  readonly spec: FakeProcessSpec
  readonly identity: ProcessIdentity
  ppid: number
  alive: boolean
}

/** A fake process table with `initial` running (see `FakeProcesses`). */
export const makeFakeProcesses = (
  initial: ReadonlyArray<FakeProcessSpec> = [],
): Effect.Effect<FakeProcesses> =>
  Effect.gen(function* () {
    const table = new Map<number, Entry>()
    const delivered: Array<FakeSignal> = []
    let clock = 1_000
    const live = (pid: number) => {
      const entry = table.get(pid)
      return entry?.alive === true ? entry : undefined
    }
    const die = (entry: Entry) => {
      entry.alive = false
      for (const other of table.values())
        if (other.alive && other.ppid === entry.identity.pid) other.ppid = 1
    }
    const addProcess = (spec: FakeProcessSpec) =>
      Effect.sync(() => {
        if (live(spec.pid) !== undefined) throw new Error(`fake pid ${spec.pid} is already alive`)
        const identity = { pid: spec.pid, startTime: spec.startTime ?? String(clock++) }
        table.set(spec.pid, { spec, identity, ppid: spec.ppid ?? 1, alive: true })
        return identity
      })
    for (const spec of initial) yield* addProcess(spec)

    const deliver = (target: number, entry: Entry, signal: NodeJS.Signals) =>
      Effect.suspend(() => {
        delivered.push({ target, pid: entry.identity.pid, signal })
        if (signal === "SIGKILL" || !(entry.spec.ignores ?? []).includes(signal)) die(entry)
        return entry.spec.onSignal?.(signal) ?? Effect.void
      })

    const processes: ProcessesShape = {
      identify: (pid) => Effect.sync(() => Option.fromNullable(live(pid)?.identity)),
      commandLine: (pid) => Effect.sync(() => Option.fromNullable(live(pid)?.spec.command)),
      descendants: (root) =>
        Effect.sync(() => {
          const out: Array<ProcessIdentity> = []
          const stack = [root]
          while (stack.length > 0) {
            const parent = stack.pop()
            for (const entry of table.values()) {
              if (!entry.alive || entry.ppid !== parent) continue
              out.push(entry.identity)
              stack.push(entry.identity.pid)
            }
          }
          return out
        }),
      withEnv: (name) =>
        Effect.sync(() => {
          const found = new Map<string, Array<ProcessIdentity>>()
          for (const entry of table.values()) {
            const value = entry.spec.env?.[name]
            if (!entry.alive || value === undefined) continue
            found.set(value, [...(found.get(value) ?? []), entry.identity])
          }
          return found
        }),
      signal: (target, signal) =>
        Effect.suspend(() => {
          const hit =
            target > 0
              ? [live(target)].filter((e): e is Entry => e !== undefined)
              : [...table.values()].filter(
                  (e) => e.alive && (e.spec.pgid ?? e.identity.pid) === -target,
                )
          return Effect.as(
            Effect.forEach(hit, (entry) => deliver(target, entry, signal), { discard: true }),
            hit.length > 0,
          )
        }),
    }
    return {
      processes,
      layer: Layer.succeed(Processes, processes),
      spawn: addProcess,
      exit: (pid) =>
        Effect.sync(() => {
          const entry = live(pid)
          if (entry !== undefined) die(entry)
        }),
      signals: Effect.sync(() => [...delivered]),
      alive: Effect.sync(() =>
        [...table.values()].filter((e) => e.alive).map((e) => e.identity.pid),
      ),
    }
  })
