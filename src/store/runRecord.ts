import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option, Schema } from "effect"
import { identityKey, ProcessIdentity } from "../processes/identity.js"
import { writeFileAtomic } from "./atomic.js"
import { type StoreError, StoreError as StoreErrorClass } from "./errors.js"
import type { TaskLocation } from "./layout.js"

/** File naming the process marker of the task's current (or last) worker, and what its runs started. */
export const RUN_FILE = "run.json"

/**
 * `run.json`: `run_id` is the marker every codex process of the worker carries
 * (`processes/Processes.ts` `RUN_MARKER_VAR`); `processes` the identities seen in its runs that
 * were still alive when recorded, so a later `stop`/`send`/`archive` can kill the ones that
 * dropped the marker after the worker was lost.
 */
export const RunRecord = Schema.Struct({
  runId: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("run_id")),
  processes: Schema.optionalWith(Schema.Array(ProcessIdentity), { default: () => [] }),
})
/** The decoded `run.json`. */
export type RunRecord = typeof RunRecord.Type

const RunJson = Schema.parseJson(RunRecord)
const decode = Schema.decodeUnknownOption(RunJson)
const encode = Schema.encodeSync(RunJson)

const write = (dir: string, record: RunRecord) =>
  writeFileAtomic(join(dir, RUN_FILE), `${encode(record)}\n`)

/** The record of the task's last worker; none when missing or unreadable (a small file: read synchronously). */
export const readRunRecord = (dir: string): Effect.Effect<Option.Option<RunRecord>> =>
  Effect.sync(() => {
    try {
      return decode(readFileSync(join(dir, RUN_FILE), "utf8"))
    } catch {
      return Option.none()
    }
  })

/** Records a new worker's marker (and no processes yet). */
export const writeRunRecord = (dir: string, runId: string): Effect.Effect<void, StoreError> =>
  write(dir, { runId, processes: [] })

/**
 * Adds `seen` to the processes of run `runId`, keeping only those `keep` says still run (a dead
 * process never matters again). Does nothing when the file names another run (a newer worker's).
 */
export const recordRunProcesses = <R>(
  dir: string,
  runId: string,
  seen: ReadonlyArray<ProcessIdentity>,
  keep: (identity: ProcessIdentity) => Effect.Effect<boolean, never, R>,
): Effect.Effect<void, StoreError, R> =>
  Effect.gen(function* () {
    const current = yield* readRunRecord(dir)
    if (Option.isSome(current) && current.value.runId !== runId) return
    const all = new Map<string, ProcessIdentity>()
    for (const p of [
      ...Option.match(current, { onNone: () => [], onSome: (r) => r.processes }),
      ...seen,
    ])
      all.set(identityKey(p), p)
    const kept = yield* Effect.filter([...all.values()], keep)
    yield* write(dir, { runId, processes: kept })
  })

/** The run-record operations the task store offers (`isAlive` checks a recorded process). */
export const runRecordOps = (isAlive: (p: ProcessIdentity) => Effect.Effect<boolean>) => ({
  /** `run.json` of the task's last worker (its marker and the processes its runs started). */
  readRunRecord: (loc: TaskLocation) =>
    (loc.layout === "flat"
      ? Effect.succeed(Option.none<RunRecord>())
      : readRunRecord(loc.dir)
    ).pipe(Effect.withSpan("TaskStore.readRunRecord")),
  /** Records a new worker's marker in `run.json` (forgetting the previous worker's processes). */
  writeRunRecord: (loc: TaskLocation, runId: string) =>
    (loc.layout === "flat"
      ? Effect.fail(
          new StoreErrorClass({
            message: `task ${loc.id} is in the Rust tool's flat format and has no run record`,
            path: loc.dir,
          }),
        )
      : writeRunRecord(loc.dir, runId)
    ).pipe(Effect.withSpan("TaskStore.writeRunRecord")),
  /** Adds processes seen in a run of worker `runId` to `run.json` (the dead ones are dropped). */
  recordRunProcesses: (loc: TaskLocation, runId: string, seen: ReadonlyArray<ProcessIdentity>) =>
    (loc.layout === "flat" ? Effect.void : recordRunProcesses(loc.dir, runId, seen, isAlive)).pipe(
      Effect.withSpan("TaskStore.recordRunProcesses"),
    ),
})
