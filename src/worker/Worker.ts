import { randomUUID } from "node:crypto"
import { rename } from "node:fs/promises"
import { join } from "node:path"
import { Cause, Effect, Either, Option, Ref } from "effect"
import { parseDuration } from "../domain/duration.js"
import { userMessage, workerNote } from "../domain/logEntries.js"
import { nowTimestamp, type TaskMeta } from "../domain/task.js"
import { type ExecOptions, fromStoredExecOptions, toStoredExecOptions } from "../exec/options.js"
import type { Handshake, WorkerRequest } from "../launcher/protocol.js"
import type { ProcessIdentity } from "../processes/identity.js"
import { currentIdentity } from "../processes/procfs.js"
import { errnoCode, tryFs } from "../store/errors.js"
import { WORKER_STDERR } from "../store/scratchNames.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import type { PromptResult } from "./attempt.js"
import { WorkerEnv, waitingOutLock } from "./env.js"
import { claimFinished, notifyFinished, runNotifier } from "./notify.js"
import { type FinishedPrompt, finishAfterFailure, takeNext } from "./queue.js"
import { makeTaskLog, type TaskLog } from "./taskLog.js"
import { runPromptWaiting } from "./usageWait.js"
import { isStopping } from "./WorkerControl.js"

/** The worker's answer to whoever started it (a pipe in the real worker). */
export type HandshakeFn = (handshake: Handshake) => Effect.Effect<void>

type StartRequest = Extract<WorkerRequest, { _tag: "Start" }>
type ResumeRequest = Extract<WorkerRequest, { _tag: "Resume" }>
type NotifyRequest = Extract<WorkerRequest, { _tag: "Notify" }>

/** The one-line reason of a failure (never a stack trace). */
export const reasonOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  if (e instanceof Error) return e.message
  return typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
}

/**
 * A worker that breaks still leaves a truthful task behind: DIED with the reason. Each record is
 * made on its own, the state first, so a full disk that refuses the log entry still gets the
 * reason into `task.json`. A failure before the task exists goes to the caller (the handshake).
 */
const guardTask = <R>(log: TaskLog, effect: Effect.Effect<void, unknown, R>) =>
  effect.pipe(
    Effect.catchAllCause((cause) =>
      Effect.gen(function* () {
        const env = yield* WorkerEnv
        const loc = yield* log.location
        if (Cause.isInterruptedOnly(cause) || Option.isNone(loc))
          return yield* Effect.failCause(cause)
        const message = `the worker failed: ${reasonOf(cause)}`
        const at = loc.value
        yield* claimFinished(at)
        yield* env.store
          .update(at, (m) => ({
            ...m,
            state: "DIED",
            last_outcome: {
              kind: "failed",
              error_class: "WorkerFailed",
              message,
              at: nowTimestamp(),
            },
          }))
          .pipe(Effect.ignore)
        yield* env.store.appendLog(at, workerNote(message)).pipe(Effect.ignore)
        yield* env.store.dropQueued(at, message).pipe(Effect.ignore)
        yield* env.store.clearWorker(at, env.self).pipe(Effect.ignore)
      }),
    ),
    // The task left RUNNING (finished, stopped or died): its --on-finish and --webhook run now.
    Effect.zipRight(notifyFinished(log)),
  )

/** Runs the task's queue: each prompt in order, until it is empty, stopped, or a prompt failed. */
const runQueue = (log: TaskLog, loc: TaskLocation, options: ExecOptions) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    let finished: FinishedPrompt | undefined
    for (;;) {
      const next = yield* takeNext(loc, finished)
      if (Option.isNone(next)) return
      const { prompt, seq } = next.value
      yield* log.write(userMessage(prompt))
      // `send --backend` may have switched the backend since this worker started: read it now.
      const stored = yield* env.store.read(loc)
      const backend = fromStoredExecOptions(stored.exec, stored).backend
      const result = yield* runPromptWaiting(log, {
        prompt,
        options: { ...options, backend },
        threadId: loc.id,
        queued: true,
      })
      if (result._tag === "Failed") return yield* finishAfterFailure(loc, result.error, seq)
      finished = { seq, record: result._tag === "NoTask" ? undefined : result.record }
    }
  })

const metaFor = (request: StartRequest, options: ExecOptions, id: string, created: string) =>
  ({
    id: id as TaskMeta["id"],
    ...(request.title === undefined ? {} : { title: request.title }),
    state: "RUNNING",
    created_at: created,
    updated_at: nowTimestamp(),
    initial_prompt: request.prompt,
    last_prompt: request.prompt,
    ...(options.configFile === undefined ? {} : { config_path: options.configFile }),
    ...(options.workingDir === undefined ? {} : { working_dir: options.workingDir }),
    schema_version: 1,
    exec: toStoredExecOptions(options),
    turns: 0,
    dropped_prompts: 0,
    ...(request.limits === undefined ? {} : { limits: request.limits }),
    ...(request.notify === undefined ? {} : { notify: request.notify }),
  }) satisfies TaskMeta

/** Moves the worker's stderr file from the start's scratch directory into the task directory. */
const adoptStderr = (scratchDir: string, loc: TaskLocation) => {
  const from = join(scratchDir, WORKER_STDERR)
  return tryFs("rename", from, () =>
    rename(from, join(loc.dir, WORKER_STDERR)).catch((e) => {
      if (errnoCode(e) !== "ENOENT") throw e
    }),
  )
}

/**
 * The shortest usage-limit wait once the reported minute has begun: 30 s, or
 * `CODEX_TASKS_LIMIT_WAIT_FLOOR` (a duration; for tests, whose resets are seconds away).
 */
const limitFloorMs = (env: NodeJS.ProcessEnv): number => {
  const raw = env.CODEX_TASKS_LIMIT_WAIT_FLOOR
  const parsed = raw === undefined ? undefined : Either.getOrUndefined(parseDuration(raw))
  return parsed ?? 30_000
}

/** A new task: the first prompt creates it when codex reports the thread, then the queue runs. */
const start = (request: StartRequest, handshake: HandshakeFn) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const { store } = env
    const options = request.options
    const log = yield* makeTaskLog(store)
    yield* store.makeStartDir(env.startDir, env.self, env.runId)
    yield* log.write(userMessage(request.prompt))
    const created = nowTimestamp()
    // worker.json, run.json, the log so far, and task.json last (see TaskStore.create).
    const onThread = (threadId: string) =>
      Effect.tap(
        store.create(
          metaFor(request, options, threadId, created),
          (loc) =>
            // Different files, written at once (the id is printed only after all of them);
            // run.json is written, then added to.
            Effect.all(
              [
                env.self === undefined ? Effect.void : store.writeWorker(loc, env.self),
                Effect.zipRight(
                  store.writeRunRecord(loc, env.runId),
                  Effect.flatMap(Ref.get(env.seen), (seen) =>
                    store.recordRunProcesses(loc, env.runId, seen),
                  ),
                ),
                adoptStderr(env.startDir, loc),
                log.attach(loc),
              ],
              { discard: true, concurrency: "unbounded" },
            ),
          env.self,
        ),
        (loc) => handshake({ _tag: "Started", id: loc.id }),
      )
    const work = Effect.gen(function* () {
      const first: PromptResult = yield* runPromptWaiting(
        log,
        { prompt: request.prompt, options },
        onThread,
      )
      if (first._tag === "NoTask") {
        // A stop before the thread (a cancelled start, `stop --all`) says so.
        const stopped = first.error === undefined && (yield* isStopping("now"))
        return yield* handshake({
          _tag: "Failed",
          errorTag: first.error?._tag ?? (stopped ? "Stopped" : "MissingThreadStarted"),
          message:
            first.error?.message ??
            (stopped
              ? "the start was stopped before codex started a thread"
              : "codex exited before starting a thread"),
        })
      }
      if (first._tag === "Failed") return yield* finishAfterFailure(first.loc, first.error)
      yield* runQueue(log, first.loc, options)
    })
    yield* guardTask(log, work).pipe(
      Effect.ensuring(store.removeStartDir(env.startDir).pipe(Effect.ignore)),
    )
  })

/** An existing task whose `send` found no worker: this one takes over and runs its queue. */
const resume = (request: ResumeRequest, handshake: HandshakeFn) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const { store } = env
    const loc = yield* store.resolve(request.taskId)
    yield* store.sweepScratch(loc).pipe(Effect.ignore)
    yield* store.writeRunRecord(loc, env.runId)
    if (env.self !== undefined) yield* store.writeWorker(loc, env.self)
    yield* handshake({ _tag: "Accepted", id: loc.id })
    const log = yield* makeTaskLog(store, loc)
    const work = Effect.gen(function* () {
      // A prompt a lost worker had taken is recorded as dropped: it may have run in part.
      yield* waitingOutLock(store.recoverInFlight(loc))
      const meta = yield* store.read(loc)
      yield* Ref.set(env.limits, meta.limits ?? {})
      yield* log.write(workerNote(`worker ${process.pid} resumed the task`))
      yield* runQueue(log, loc, fromStoredExecOptions(meta.exec, meta))
    })
    yield* guardTask(log, work)
  })

/**
 * The worker program: runs the first prompt of a new task (or takes over an existing one), then
 * every prompt of the task's inbox in order, one invocation at a time, until the inbox is empty,
 * a stop is requested, or a prompt fails for good. It finishes the task under the task lock, so a
 * `send` racing with the end is never lost: either this worker sees it, or the sender sees no
 * worker and starts one.
 */
export const runWorker = (
  request: WorkerRequest,
  handshake: HandshakeFn,
  /** This worker's process (another one when the worker runs in-process, in tests). */
  self: ProcessIdentity | undefined = currentIdentity(),
) =>
  request._tag === "Notify"
    ? notifyOnly(request, handshake, self)
    : runTask(request, handshake, self)

/** The `Notify` request: only the notifications of a run that ended without its worker's. */
export const notifyOnly = (
  request: NotifyRequest,
  handshake: HandshakeFn,
  self: ProcessIdentity | undefined = currentIdentity(),
) => runNotifier(request, (id) => handshake({ _tag: "Accepted", id }), self).pipe(Effect.orDie)

const runTask = (
  request: StartRequest | ResumeRequest,
  handshake: HandshakeFn,
  self: ProcessIdentity | undefined,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const runId = randomUUID()
    const env: WorkerEnv["Type"] = {
      store,
      // Every codex process this worker starts carries this marker, so a stop or a later worker
      // can find and kill whatever is left of them.
      runId,
      self,
      seen: yield* Ref.make<ReadonlyArray<ProcessIdentity>>([]),
      retry: request.retry,
      limits: yield* Ref.make(request._tag === "Start" ? (request.limits ?? {}) : {}),
      limitFloorMs: limitFloorMs(process.env),
      pinnedPaths: request.pinnedPaths ?? [],
      startDir:
        request._tag === "Start" && request.scratchDir !== undefined
          ? request.scratchDir
          : store.startDirOf(runId),
      updateMeta: (loc, f) => waitingOutLock(store.update(loc, f)),
    }
    // Scratch of starts whose worker was killed before it finished.
    yield* store.sweepScratch(undefined).pipe(Effect.ignore)
    const work = request._tag === "Start" ? start(request, handshake) : resume(request, handshake)
    return yield* Effect.provideService(work, WorkerEnv, env)
  }).pipe(
    // The edge: what the worker cannot record in the task (it failed before the task existed, or
    // recording failed too) is a defect, which the process entry reports in the handshake.
    Effect.orDie,
  )
