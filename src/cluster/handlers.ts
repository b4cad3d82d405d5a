/**
 * What a runner does with the fleet's messages: each one is a call to the same local `Tasks`
 * façade a local command makes (detached workers, inbox, transcript, this host's store), its
 * failures turned into `FleetError`s the client prints.
 */
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"
import { Cause, Effect, Option } from "effect"
import type { SendJson, TaskJson } from "../domain/wire.js"
import type { Backend } from "../exec/options.js"
import { prewarmWorker } from "../launcher/prewarm.js"
import { writeFileAtomic } from "../store/atomic.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { answerApproval } from "../tasks/approvals.js"
import { Tasks } from "../tasks/Tasks.js"
import { changesJson } from "../tasks/taskDiff.js"
import { viewJson } from "../tasks/view.js"
import { readChunk, waitForGrowth } from "./logChunk.js"
import { type AnswerRequest, FleetError } from "./protocol.js"

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

const readReceipt = (path: string): KeptReceipt | undefined => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as KeptReceipt
  } catch {
    return undefined
  }
}

// A steer's receipt before the worker decided (joined or queued): the log offset to look from.
type KeptReceipt = SendJson & { readonly steer_log_offset?: number }

const shownReceipt = (receipt: {
  readonly id: string
  readonly seq: number
  readonly status: SendJson["status"]
  readonly position?: number | undefined
}): SendJson => ({
  id: receipt.id as SendJson["id"],
  seq: receipt.seq,
  status: receipt.status,
  ...(receipt.status === "queued" ? { position: receipt.position } : {}),
})

const readAnswer = (path: string): { id: string; waiting?: string } | undefined => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as { id: string; waiting?: string }
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

    const keepReceipt = (loc: TaskLocation, file: string, receipt: KeptReceipt) =>
      Effect.gen(function* () {
        mkdirSync(join(loc.dir, SENT_DIR), { recursive: true, mode: 0o700 })
        yield* writeFileAtomic(file, JSON.stringify(receipt), { durable: true })
        return shownReceipt(receipt)
      })

    // A steer waits (out of the task lock) for the worker to join it to the turn; its receipt is
    // kept as soon as the prompt is in the inbox, so a redelivery asks the worker's decision
    // again instead of queueing the prompt a second time.
    const steerOnce = (
      loc: TaskLocation,
      file: string,
      prompt: string,
      options: Omit<Parameters<typeof tasks.send>[2] & object, "steer" | "accepted">,
    ) =>
      Effect.gen(function* () {
        const earlier = yield* store.withLock(
          loc,
          Effect.sync(() => readReceipt(file)),
        )
        if (earlier !== undefined) {
          const from = earlier.steer_log_offset
          if (from === undefined) return shownReceipt(earlier)
          // Delivered again while (or after) the first delivery waited for the worker's decision.
          const joined = yield* tasks.steered(loc.id, from, earlier.seq)
          const decided = shownReceipt(joined ? { ...earlier, status: "joined" } : earlier)
          return yield* store.withLock(loc, keepReceipt(loc, file, decided))
        }
        const receipt = yield* tasks
          .send(loc.id, prompt, {
            ...options,
            steer: true,
            accepted: (accepted) =>
              keepReceipt(loc, file, {
                ...shownReceipt(accepted),
                ...(accepted.status === "queued" ? { steer_log_offset: accepted.logOffset } : {}),
              }).pipe(Effect.orDie, Effect.asVoid),
          })
          // A worker that could not start took the prompt back: no receipt for it either.
          .pipe(Effect.tapError(() => Effect.sync(() => rmSync(file, { force: true }))))
        return yield* store.withLock(loc, keepReceipt(loc, file, shownReceipt(receipt)))
      })

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
        raise: {
          readonly maxTokens?: number | undefined
          readonly fleetMaxRunning?: number | undefined
          readonly steer?: boolean | undefined
          readonly backend?: Backend | undefined
        } = {},
      ) =>
        Effect.gen(function* () {
          const loc = yield* tasks.resolve(id)
          const file = keyFile(loc.dir, key)
          const options = {
            maxTokens: raise.maxTokens,
            fleetMaxRunning: raise.fleetMaxRunning,
            backend: raise.backend,
          }
          if (raise.steer === true) {
            return yield* steerOnce(loc, file, prompt, options).pipe(
              Effect.tap(() => saveSnapshot(loc.id)),
            )
          }
          return yield* store
            .withLock(
              loc,
              Effect.gen(function* () {
                const earlier = readReceipt(file)
                if (earlier !== undefined) return shownReceipt(earlier)
                const receipt = yield* tasks.send(id, prompt, options)
                return yield* keepReceipt(loc, file, shownReceipt(receipt))
              }),
            )
            .pipe(Effect.tap(() => saveSnapshot(loc.id)))
        }).pipe(asFleetError),

      answer: (id: string, request: AnswerRequest) =>
        Effect.gen(function* () {
          const loc = yield* tasks.resolve(id)
          const file = keyFile(loc.dir, request.key)
          return yield* store.withLock(
            loc,
            Effect.gen(function* () {
              // The answer landed already (a retry): the same outcome, not "not waiting".
              const earlier = readAnswer(file)
              if (earlier !== undefined) return earlier
              const { key: _, ...answer } = request
              const { id: full, waiting } = yield* answerApproval(loc.id, answer)
              const given = { id: full, ...(waiting === undefined ? {} : { waiting }) }
              mkdirSync(join(loc.dir, SENT_DIR), { recursive: true, mode: 0o700 })
              yield* writeFileAtomic(file, JSON.stringify(given), { durable: true })
              return given
            }),
          )
        }).pipe(
          Effect.tap((given) => saveSnapshot(given.id)),
          asFleetError,
        ),

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
