import { readFileSync } from "node:fs"
import { unlink } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Option, Schema } from "effect"
import { isAlive } from "../processes/control.js"
import { ProcessIdentity, sameProcess } from "../processes/identity.js"
import { Processes } from "../processes/Processes.js"
import { writeFileAtomic } from "./atomic.js"
import { errnoCode, type StoreError, storeError } from "./errors.js"
import { faultPoint } from "./faults.js"
import { TASK_PID, WORKER_JSON } from "./layout.js"

const WorkerJson = Schema.parseJson(ProcessIdentity)
const decodeWorker = Schema.decodeUnknownOption(WorkerJson)
const encodeWorker = Schema.encodeSync(WorkerJson)

class Unreadable {
  readonly _tag = "Unreadable"
}

/**
 * File text, undefined when missing, `Unreadable` on any other error. Read synchronously: these
 * are a few bytes, and `status` asks every task (a thread-pool trip each costs more than the read).
 */
const readText = (path: string): Effect.Effect<string | undefined | Unreadable> =>
  Effect.sync(() => {
    try {
      return readFileSync(path, "utf8")
    } catch (e) {
      return errnoCode(e) === "ENOENT" ? undefined : new Unreadable()
    }
  })

const removeIfPresent = (path: string) =>
  Effect.tryPromise({
    try: () => {
      faultPoint("worker.clear", path)
      return unlink(path).catch((e) => {
        if (errnoCode(e) !== "ENOENT") throw e
      })
    },
    catch: storeError("unlink", path),
  })

/** The identity recorded in a task's `worker.json`, if any (read synchronously: views need it often). */
export const readWorkerIdentity = (dir: string): ProcessIdentity | undefined => {
  try {
    return Option.getOrUndefined(decodeWorker(readFileSync(join(dir, WORKER_JSON), "utf8")))
  } catch {
    return undefined
  }
}

/** Writes `worker.json` alone (a start's scratch directory records its owner this way). */
export const writeWorkerIdentity = (
  dir: string,
  identity: ProcessIdentity,
): Effect.Effect<void, StoreError> =>
  writeFileAtomic(join(dir, WORKER_JSON), `${encodeWorker(identity)}\n`)

/** Records the running worker: `worker.json` (identity) and `task.pid` (bare pid, as in Rust). */
export const writeWorker = (
  dir: string,
  identity: ProcessIdentity,
): Effect.Effect<void, StoreError> =>
  Effect.zipRight(
    writeWorkerIdentity(dir, identity),
    writeFileAtomic(join(dir, TASK_PID), `${identity.pid}\n`),
  )

/** Removes the worker record; with `expected`, only if it still names that worker. */
export const clearWorker = (
  dir: string,
  expected?: ProcessIdentity,
): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    if (expected !== undefined) {
      const text = yield* readText(join(dir, WORKER_JSON))
      const current = typeof text === "string" ? decodeWorker(text) : Option.none()
      if (!(Option.isSome(current) && sameProcess(expected, current.value))) return
    }
    yield* removeIfPresent(join(dir, WORKER_JSON))
    yield* removeIfPresent(join(dir, TASK_PID))
  })

/**
 * Liveness of a bare pid file written by the Rust tool (it named the codex child, or in the proto
 * era the `codex proto` process): it cannot be verified, so it is `false` when the pid does not
 * exist or is visibly not a codex process, else `"unknown"`.
 */
export const legacyPidAlive = (
  pidPath: string,
): Effect.Effect<boolean | "unknown", never, Processes> =>
  Effect.gen(function* () {
    const processes = yield* Processes
    const pidText = yield* readText(pidPath)
    if (pidText instanceof Unreadable) return "unknown"
    if (pidText === undefined || !/^\s*\d+\s*$/.test(pidText)) return false
    const pid = Number(pidText.trim())
    if (Option.isNone(yield* processes.identify(pid))) return false
    const command = yield* processes.commandLine(pid)
    if (Option.isSome(command) && !/codex/i.test(command.value)) return false
    return "unknown"
  })

/**
 * Is the task's worker alive? `worker.json` is verified by process identity; without it, a bare
 * `task.pid` (the Rust tool's) is judged by `legacyPidAlive`.
 */
export const workerAlive = (dir: string): Effect.Effect<boolean | "unknown", never, Processes> =>
  Effect.gen(function* () {
    const workerText = yield* readText(join(dir, WORKER_JSON))
    if (workerText instanceof Unreadable) return "unknown"
    if (workerText !== undefined) {
      const identity = decodeWorker(workerText)
      if (Option.isSome(identity)) return yield* isAlive(identity.value)
    }
    return yield* legacyPidAlive(join(dir, TASK_PID))
  })
