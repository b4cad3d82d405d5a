/**
 * What a runner does with the fleet's messages: each one is a call to the same local `Tasks`
 * façade a local command makes (detached workers, inbox, transcript, this host's store), its
 * failures turned into `FleetError`s the client prints.
 */
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { Cause, Effect, Option } from "effect"
import type { SendJson, TaskJson } from "../domain/wire.js"
import { prewarmWorker } from "../launcher/prewarm.js"
import { writeFileAtomic } from "../store/atomic.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks } from "../tasks/Tasks.js"
import { changesJson } from "../tasks/taskDiff.js"
import { viewJson } from "../tasks/view.js"
import { readChunk, waitForGrowth } from "./logChunk.js"
import { FleetError } from "./protocol.js"

const messageOf = (e: unknown) =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
    ? e.message
    : String(e)

/** `effect`'s failures and defects as a `FleetError` (a usage error stays one). */
export const asFleetError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const failure = Cause.failureOption(cause)
      const e = Option.isSome(failure) ? failure.value : Cause.squash(cause)
      const usage = typeof e === "object" && e !== null && "_tag" in e && e._tag === "UsageError"
      return Effect.fail(new FleetError({ message: messageOf(e), usage }))
    }),
  )

/** A task of this host as the fleet shows it: the local JSON plus the host. */
export const withHost = (json: TaskJson, host: string): TaskJson => ({ ...json, host })

// A delivered `Send` leaves its receipt here (one file per client key), under the task lock:
// a redelivery of the same message returns it instead of queueing the prompt again.
const SENT_DIR = "cluster-sent"
const keyFile = (dir: string, key: string) =>
  join(dir, SENT_DIR, `${createHash("sha256").update(key).digest("hex").slice(0, 40)}.json`)

const readReceipt = (path: string): SendJson | undefined => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as SendJson
  } catch {
    return undefined
  }
}

/** Where a runner keeps its tasks' snapshots (`registry.saveSnapshots` on the fleet's Postgres). */
export type SaveSnapshots = (
  tasks: ReadonlyArray<TaskJson>,
  takenAt: Date,
) => Effect.Effect<void, unknown>

/** The handlers' operations, with the runner's `Tasks` and store captured once. */
export const makeOperations = (host: string, cwd: string, save: SaveSnapshots) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const store = yield* TaskStore
    const taskJson = (id: string) =>
      Effect.gen(function* () {
        const report = yield* tasks.status({ selector: { _tag: "Ids", refs: [id] } })
        const view = report.views[0]
        if (view === undefined) {
          return yield* new FleetError({
            message: report.broken[0]?.message ?? `No task ${id} on host ${host}.`,
            usage: false,
          })
        }
        return withHost(viewJson(view), host)
      })
    // What `ls` shows of the task is saved before the answer: an `ls` after it sees the change.
    // The plain view, as the heartbeat's (no process scan, no git: cheap while a turn starts).
    const saveSnapshot = (id: string) =>
      Effect.suspend(() => {
        const takenAt = new Date()
        return Effect.flatMap(tasks.select({ _tag: "Ids", refs: [id] }), ({ views }) =>
          save(
            views.map((v) => withHost(viewJson(v), host)),
            takenAt,
          ),
        )
      }).pipe(Effect.ignore)

    return {
      start: (payload: {
        readonly prompt: string
        readonly title?: string | undefined
        readonly options: Parameters<typeof tasks.start>[0]["options"]
        readonly limits?: Parameters<typeof tasks.start>[0]["limits"]
        readonly repo?: { readonly url: string; readonly ref?: string | undefined } | undefined
        readonly fleetMaxRunning?: number | undefined
        readonly worktree?:
          | { readonly base?: string | undefined; readonly branch?: string | undefined }
          | undefined
      }) =>
        Effect.gen(function* () {
          // A working directory is a path on this host; relative ones from the runner's directory.
          const workingDir = resolve(cwd, payload.options.workingDir ?? ".")
          const { id } = yield* tasks.start({
            prompt: payload.prompt,
            title: payload.title,
            options: { ...payload.options, workingDir },
            limits: payload.limits,
            repo: payload.repo,
            fleetMaxRunning: payload.fleetMaxRunning,
            worktree: payload.worktree,
          })
          yield* saveSnapshot(id)
          // The next start claims a worker that is already loaded, as a local start does.
          prewarmWorker(["--store-root", store.root])
          return { id }
        }).pipe(asFleetError),

      list: (includeArchived: boolean) =>
        Effect.map(tasks.list({ includeArchived }), ({ views }) =>
          views.map((v) => withHost(viewJson(v), host)),
        ).pipe(asFleetError),

      status: (id: string) => asFleetError(taskJson(id)),

      send: (
        id: string,
        key: string,
        prompt: string,
        maxTokens: number | undefined,
        fleetMaxRunning?: number | undefined,
      ) =>
        Effect.gen(function* () {
          const loc = yield* tasks.resolve(id)
          const file = keyFile(loc.dir, key)
          return yield* store
            .withLock(
              loc,
              Effect.gen(function* () {
                const earlier = readReceipt(file)
                if (earlier !== undefined) return earlier
                const receipt = yield* tasks.send(id, prompt, { maxTokens, fleetMaxRunning })
                const shown: SendJson = {
                  id: receipt.id as SendJson["id"],
                  seq: receipt.seq,
                  status: receipt.status,
                  ...(receipt.status === "queued" ? { position: receipt.position } : {}),
                }
                mkdirSync(join(loc.dir, SENT_DIR), { recursive: true, mode: 0o700 })
                yield* writeFileAtomic(file, JSON.stringify(shown), { durable: true })
                return shown
              }),
            )
            .pipe(Effect.tap(() => saveSnapshot(loc.id)))
        }).pipe(asFleetError),

      log: (id: string, offset: number, waitMs: number, lastLines: number | undefined) =>
        Effect.gen(function* () {
          const loc = yield* tasks.resolve(id, { includeArchived: true })
          const path = store.logPath(loc)
          const running = Effect.map(tasks.currentState(loc), (s) => s === "RUNNING")
          const first = yield* readChunk(path, offset, lastLines)
          if (first.bytes.length > 0 || waitMs <= 0) {
            return { ...first, running: yield* running }
          }
          yield* waitForGrowth(path, offset, running, waitMs)
          const next = yield* readChunk(path, offset, undefined)
          return { ...next, running: yield* running }
        }).pipe(asFleetError),

      stop: (id: string, afterTurn: boolean, timeoutMs: number) =>
        Effect.map(tasks.stop([id], { afterTurn, timeoutMs }), (reports) => {
          const r = reports[0]
          return {
            status: r?.status ?? "unknown",
            message: r !== undefined && "message" in r ? r.message : "",
          } as const
        }).pipe(
          Effect.tap(() => saveSnapshot(id)),
          asFleetError,
        ),

      waitTurn: (id: string, seq: number | undefined) =>
        Effect.map(tasks.waitForTurn(id, seq), (end) => ({
          answered: end._tag === "answered",
          dropped: end._tag === "unanswered" && end.dropped,
          task: withHost(viewJson(end.view), host),
        })).pipe(asFleetError),

      changes: (id: string, color: boolean, patch: boolean) =>
        Effect.gen(function* () {
          const { id: full, changes } = yield* tasks.changes(id, { color, patch })
          const meta = yield* store.read(yield* tasks.resolve(full, { includeArchived: true }))
          return { diff: changesJson(full, changes, !patch), title: meta.title ?? null }
        }).pipe(asFleetError),

      archive: (id: string) =>
        Effect.flatMap(tasks.archive([id]), (summary) => {
          const r = summary.reports[0]
          if (r === undefined) {
            return Effect.fail(
              new FleetError({ message: `No task ${id} on host ${host}.`, usage: false }),
            )
          }
          return Effect.succeed({
            status: r.status,
            dir: "dir" in r ? r.dir : "",
            state: "state" in r ? r.state : "",
            leftoversKilled: ("leftoversKilled" in r ? r.leftoversKilled : undefined) ?? 0,
            keptIgnored: ("keptIgnored" in r ? r.keptIgnored : undefined) ?? 0,
          })
        }).pipe(
          Effect.tap(() => saveSnapshot(id)),
          asFleetError,
        ),
    }
  })
