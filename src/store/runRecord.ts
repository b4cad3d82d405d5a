import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Option, Schema } from "effect"
import { identityKey, ProcessIdentity } from "../processes/identity.js"
import { writeFileAtomic } from "./atomic.js"
import type { StoreError } from "./errors.js"

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

/** The record of the task's last worker; none when missing or unreadable. */
export const readRunRecord = (dir: string): Effect.Effect<Option.Option<RunRecord>> =>
  Effect.map(
    Effect.promise(() => readFile(join(dir, RUN_FILE), "utf8").catch(() => undefined)),
    (text) => (text === undefined ? Option.none() : decode(text)),
  )

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
