import { randomUUID } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { basename, join } from "node:path"
import { Cause, Deferred, Effect, Option, Random } from "effect"
import { isRetryable } from "../domain/errors.js"
import type { Usage } from "../domain/events.js"
import { invocationFailed, retryEntry, userMessage, workerNote } from "../domain/logEntries.js"
import { nowTimestamp, type TaskMeta, type TaskOutcome } from "../domain/task.js"
import type { ExecResult } from "../exec/CodexExec.js"
import { type ExecOptions, fromStoredExecOptions, toStoredExecOptions } from "../exec/options.js"
import { StoreError } from "../store/errors.js"
import type { InboxEntry } from "../store/inbox.js"
import { processIdentity } from "../store/processIdentity.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { writeRunRecord } from "../tasks/runRecord.js"
import { type InvocationSink, runInvocation } from "./invocation.js"
import type { Handshake, WorkerRequest } from "./protocol.js"
import { backoffDelay, finalState, hasSideEffects, outcomeOf, storedUsage } from "./rules.js"
import { WorkerControl } from "./WorkerControl.js"

/** The worker's answer to whoever started it (a pipe in the real worker). */
export type HandshakeFn = (handshake: Handshake) => Effect.Effect<void>

/** Removes a start's own temp directory (`<root>/.tmp` itself stays: other starts share it). */
const removeStartDir = (dir: string) => rmSync(dir, { recursive: true, force: true })

const readIfNonEmpty = (path: string): string | undefined => {
  try {
    const text = readFileSync(path, "utf8")
    return text.length > 0 ? text : undefined
  } catch {
    return undefined
  }
}

/**
 * The worker program: runs the first prompt of a new task (or resumes an existing one), then every
 * prompt of the task's inbox in order, one invocation at a time, until the inbox is empty or a stop
 * is requested. It finishes the task under the task lock, so a `send` racing with the end is never
 * lost: either this worker sees it, or the sender sees no worker and starts one.
 */
export const runWorker = (request: WorkerRequest, handshake: HandshakeFn) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const control = yield* WorkerControl
    const retry = request.retry
    const self = processIdentity(process.pid)
    // Every codex process this worker starts carries this marker, so a stop or a later worker
    // can find and kill whatever is left of them.
    const runId = randomUUID()

    const stopRequested = Deferred.isDone(control.stopRequested)

    const updateMeta = (loc: TaskLocation, f: (m: TaskMeta) => TaskMeta) =>
      store.withLock(loc, store.update(loc, f)).pipe(Effect.orDie)

    /** Runs one prompt with retries; `loc` is undefined for the first prompt of a new task. */
    const runPrompt = (
      initialLoc: TaskLocation | undefined,
      prompt: string,
      options: ExecOptions,
      threadId: string | undefined,
      onThreadCreated: (threadId: string) => Effect.Effect<TaskLocation>,
      /** Called once the new task's log holds everything printed so far (the `start` handshake). */
      onLogReady: (loc: TaskLocation) => Effect.Effect<void> = () => Effect.void,
    ) =>
      Effect.gen(function* () {
        let loc = initialLoc
        let thread = threadId
        let result: ExecResult | undefined
        for (let attempt = 0; ; attempt++) {
          const buffer: Array<Uint8Array | string> = loc === undefined ? [userMessage(prompt)] : []
          if (loc !== undefined && attempt === 0)
            yield* store.appendLog(loc, userMessage(prompt)).pipe(Effect.orDie)
          let sideEffects = false
          // Before the task exists, each start gets its own directory under <root>/.tmp (several
          // starts run at once; a failing one removes only its own).
          const tmpDir = loc === undefined ? join(store.root, ".tmp", runId) : loc.dir
          yield* Effect.try({
            try: () => {
              if (!existsSync(tmpDir)) mkdirSync(tmpDir, { recursive: true, mode: 0o700 })
            },
            catch: (e) =>
              new StoreError({
                message: `cannot create ${tmpDir}: ${(e as Error).message}`,
                path: tmpDir,
              }),
          }).pipe(Effect.orDie)
          const tmpResult = join(tmpDir, `.result.${randomUUID()}.tmp`)
          const sink: InvocationSink = {
            log: (chunk) =>
              loc === undefined
                ? Effect.sync(() => void buffer.push(chunk))
                : store.appendLog(loc, chunk).pipe(Effect.orDie),
            onEvent: (event) =>
              Effect.gen(function* () {
                if (hasSideEffects(event)) sideEffects = true
                if (event.type === "thread.started" && loc === undefined) {
                  thread = (event as { thread_id: string }).thread_id
                  loc = yield* onThreadCreated(thread)
                  for (const chunk of buffer) yield* store.appendLog(loc, chunk).pipe(Effect.orDie)
                  buffer.length = 0
                  yield* onLogReady(loc)
                }
                if (event.type === "turn.completed" && loc !== undefined) {
                  const usage = storedUsage((event as { usage?: Partial<Usage> }).usage)
                  yield* updateMeta(loc, (m) => ({
                    ...m,
                    ...(usage === undefined ? {} : { usage }),
                    turns: (m.turns ?? 0) + 1,
                  }))
                }
              }),
          }
          const exit = yield* runInvocation(
            { prompt, options, outputLastMessage: tmpResult, resumeThreadId: thread, runId },
            sink,
          ).pipe(Effect.either)
          if (exit._tag === "Left") {
            // codex could not even be started
            rmSync(tmpResult, { force: true })
            const error = exit.left
            if (loc === undefined) {
              removeStartDir(tmpDir)
              return { loc, error, result: undefined }
            }
            yield* store
              .appendLog(loc, invocationFailed(error._tag, error.message, false))
              .pipe(Effect.orDie)
            const outcome: TaskOutcome = {
              kind: "failed",
              error_class: error._tag,
              message: error.message,
              at: nowTimestamp(),
            }
            yield* updateMeta(loc, (m) => ({ ...m, last_outcome: outcome }))
            return { loc, error, result: undefined }
          }
          result = exit.right
          const outcome = result.outcome
          if (loc === undefined) {
            rmSync(tmpResult, { force: true })
            removeStartDir(tmpDir) // a failed start leaves nothing behind
            return { loc, error: outcome._tag === "Failed" ? outcome.error : undefined, result }
          }
          // The result file is promoted only after a completed turn with a final message.
          const text = outcome._tag === "Completed" ? readIfNonEmpty(tmpResult) : undefined
          if (text !== undefined) {
            // The first invocation wrote its result before the task directory existed.
            const inTaskDir = join(loc.dir, basename(tmpResult))
            if (tmpResult !== inTaskDir) renameSync(tmpResult, inTaskDir)
            yield* store.promoteResult(loc, inTaskDir).pipe(Effect.orDie)
          }
          rmSync(tmpResult, { force: true }) // unless promoted above
          if (tmpDir !== loc.dir) removeStartDir(tmpDir)
          const canRetry =
            outcome._tag === "Failed" &&
            isRetryable(outcome.error) &&
            !sideEffects &&
            attempt < retry.maxRetries &&
            !(yield* stopRequested)
          if (outcome._tag === "Failed") {
            yield* store
              .appendLog(loc, invocationFailed(outcome.error._tag, outcome.error.message, canRetry))
              .pipe(Effect.orDie)
          }
          yield* updateMeta(loc, (m) => ({
            ...m,
            last_outcome: outcomeOf(result!),
            ...(text === undefined ? {} : { last_result: text }),
          }))
          if (!canRetry || outcome._tag !== "Failed") return { loc, error: undefined, result }
          const delayMs = backoffDelay(retry, attempt + 1, yield* Random.next)
          yield* store
            .appendLog(
              loc,
              retryEntry({
                attempt: attempt + 1,
                maxRetries: retry.maxRetries,
                delayMs,
                errorClass: outcome.error._tag,
                message: outcome.error.message,
              }),
            )
            .pipe(Effect.orDie)
          const interrupted = yield* Effect.raceFirst(
            Effect.sleep(delayMs).pipe(Effect.as(false)),
            Deferred.await(control.stopRequested).pipe(Effect.as(true)),
          )
          if (interrupted) {
            // A stop during the backoff: the task was stopped, not killed by the failure.
            const stoppedLoc = loc
            yield* store
              .appendLog(stoppedLoc, workerNote("stop requested during retry backoff"))
              .pipe(Effect.orDie)
            yield* updateMeta(stoppedLoc, (m) => ({
              ...m,
              last_outcome: {
                kind: "interrupted",
                message: "by stop (during retry backoff)",
                at: nowTimestamp(),
              },
            }))
            return { loc, error: undefined, result }
          }
        }
      })

    /** Takes the next inbox prompt, or finishes the task (under the lock) when there is none. */
    const nextOrFinish = (loc: TaskLocation) =>
      store
        .withLock(
          loc,
          Effect.gen(function* () {
            const stopping = yield* stopRequested
            if (!stopping) {
              const next = yield* store.inboxPeek(loc)
              if (Option.isSome(next)) {
                yield* store.inboxRemove(loc, next.value.seq)
                yield* store.update(loc, (m) => ({
                  ...m,
                  last_prompt: next.value.prompt,
                  state: "RUNNING",
                }))
                return Option.some(next.value)
              }
            } else {
              yield* store.dropQueued(loc)
            }
            yield* store.update(loc, (m) => ({ ...m, state: finalState(m.last_outcome) }))
            yield* store.clearWorker(loc)
            return Option.none<InboxEntry>()
          }),
        )
        .pipe(Effect.orDie)

    const loop = (loc: TaskLocation, options: ExecOptions) =>
      Effect.gen(function* () {
        for (;;) {
          const next = yield* nextOrFinish(loc)
          if (Option.isNone(next)) return
          yield* runPrompt(loc, next.value.prompt, options, loc.id, () => Effect.succeed(loc))
          // `send --wait` watches this to know that its prompt has been answered.
          yield* updateMeta(loc, (m) => ({ ...m, inbox_done_seq: next.value.seq }))
        }
      })

    /** A worker that breaks still leaves a truthful task behind: DIED, with the reason logged. */
    const guard = <R>(loc: TaskLocation, effect: Effect.Effect<void, never, R>) =>
      effect.pipe(
        Effect.catchAllCause((cause) => {
          if (Cause.isInterruptedOnly(cause)) return Effect.void
          const message = `the worker failed: ${Cause.pretty(cause).split("\n")[0]}`
          return Effect.all([
            store.appendLog(loc, workerNote(message)),
            store.update(loc, (m) => ({
              ...m,
              state: "DIED",
              last_outcome: {
                kind: "failed",
                error_class: "WorkerFailed",
                message,
                at: nowTimestamp(),
              },
            })),
            store.clearWorker(loc),
          ]).pipe(Effect.ignore)
        }),
      )

    if (request._tag === "Start") {
      const options = request.options as ExecOptions
      const created = nowTimestamp()
      const create = (threadId: string) =>
        Effect.gen(function* () {
          const meta: TaskMeta = {
            id: threadId as TaskMeta["id"],
            ...(request.title === undefined ? {} : { title: request.title }),
            state: "RUNNING",
            created_at: created,
            updated_at: nowTimestamp(),
            initial_prompt: request.prompt,
            last_prompt: request.prompt,
            ...(options.configFile === undefined ? {} : { config_path: options.configFile }),
            ...(options.workingDir === undefined ? {} : { working_dir: options.workingDir }),
            schema_version: 1,
            exec: toStoredExecOptions(options) as TaskMeta["exec"] & {},
            turns: 0,
            dropped_prompts: 0,
          }
          const loc = yield* store.create(meta).pipe(Effect.orDie)
          if (self !== undefined) yield* store.writeWorker(loc, self).pipe(Effect.orDie)
          yield* writeRunRecord(loc.dir, runId).pipe(Effect.orDie)
          return loc
        })
      let announced = false
      const first = yield* runPrompt(undefined, request.prompt, options, undefined, create, (loc) =>
        Effect.zipRight(
          Effect.sync(() => {
            announced = true
          }),
          handshake({ _tag: "Started", id: loc.id }),
        ),
      )
      if (first.loc === undefined || !announced) {
        const error = first.error
        yield* handshake({
          _tag: "Failed",
          errorTag: error?._tag ?? "MissingThreadStarted",
          message: error?.message ?? "codex exited before starting a thread",
        })
        return
      }
      yield* guard(first.loc, loop(first.loc, options))
      return
    }

    const loc = yield* store.resolve(request.taskId).pipe(Effect.orDie)
    yield* writeRunRecord(loc.dir, runId).pipe(Effect.orDie)
    if (self !== undefined) yield* store.writeWorker(loc, self).pipe(Effect.orDie)
    yield* handshake({ _tag: "Accepted", id: loc.id })
    const meta = yield* store.read(loc).pipe(Effect.orDie)
    yield* store
      .appendLog(loc, workerNote(`worker ${process.pid} resumed the task`))
      .pipe(Effect.orDie)
    yield* guard(loc, loop(loc, fromStoredExecOptions(meta.exec, meta)))
  })
