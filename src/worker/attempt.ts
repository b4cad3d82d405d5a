import { Clock, Data, Effect, Either, Option, Ref, SubscriptionRef } from "effect"
import { type ExecError, isExecError, isRetryable, SpawnFailed, Stalled } from "../domain/errors.js"
import { isThreadStarted, isTurnCompleted, type ThreadEvent } from "../domain/events.js"
import { invocationFailed, steeredNote, userMessage, workerNote } from "../domain/logEntries.js"
import { nowTimestamp, type TaskMeta, timestampMillis } from "../domain/task.js"
import type { ApprovalReply, ApprovalRequest, ExecResult } from "../exec/CodexExec.js"
import type { ExecOptions } from "../exec/options.js"
import { movedPaths, type PinnedPath } from "../exec/pinnedPaths.js"
import type { ProcessIdentity } from "../processes/identity.js"
import type { StoreFailure } from "../store/errors.js"
import { scratchResultPath } from "../store/results.js"
import type { TaskLocation } from "../store/TaskStore.js"
import { recordUsageLimit } from "../store/usageLimit.js"
import { awaitApproval } from "./approval.js"
import { WorkerEnv } from "./env.js"
import { type InvocationResult, runInvocation } from "./invocation.js"
import { hasSideEffects, outcomeOf, storedUsage } from "./rules.js"
import { withRunSlot } from "./slot.js"
import type { TaskLog } from "./taskLog.js"
import { usageIdentityOf } from "./usageIdentity.js"
import { isStopping, type WorkerControl } from "./WorkerControl.js"

/** One prompt of a task: its text, the thread to resume (none for a start), the options. */
export interface PromptInput {
  readonly prompt: string
  readonly options: ExecOptions
  readonly threadId?: string | undefined
  /**
   * A queued prompt (run by the worker's queue): the turn's outcome is not written here but
   * returned as the result's `record`, which the queue writes together with the inbox's next step
   * (one write of `task.json` fewer between queued turns).
   */
  readonly queued?: boolean | undefined
}

/** What a finished turn records in `task.json` (its outcome, its final message). */
export type TurnRecord = (meta: TaskMeta) => TaskMeta

/** How a prompt ended (after its retries). */
export type PromptResult =
  /** The first prompt of a start failed before codex reported a thread: there is no task. */
  | { readonly _tag: "NoTask"; readonly error: ExecError | undefined }
  | {
      readonly _tag: "Completed"
      readonly loc: TaskLocation
      /** For a queued prompt: the record still to be written (see `PromptInput.queued`). */
      readonly record?: TurnRecord | undefined
    }
  | {
      readonly _tag: "Interrupted"
      readonly loc: TaskLocation
      readonly record?: TurnRecord | undefined
    }
  | {
      readonly _tag: "Failed"
      readonly loc: TaskLocation
      readonly error: ExecError
      /** Whether the last failed attempt ran a command or changed a file. */
      readonly sideEffects?: boolean | undefined
    }

/** A failed attempt: what failed and whether the turn had acted on the world. */
export class AttemptFailed extends Data.TaggedError("AttemptFailed")<{
  readonly loc: TaskLocation
  readonly error: ExecError
  readonly sideEffects: boolean
  /** 1-based number of the attempt. */
  readonly attempt: number
}> {}

/** How often a steerable turn looks for `send --steer` prompts. */
const STEER_POLL_MS = 200

/** Whether running the prompt again is safe and may help: a retryable class, no side effects. */
export const worthRetrying = (f: AttemptFailed): boolean => isRetryable(f.error) && !f.sideEffects

/** What an attempt needs besides its input. */
export interface AttemptContext {
  readonly log: TaskLog
  /** The thread once known (a start learns it from its first attempt; retries resume it). */
  readonly thread: Ref.Ref<string | undefined>
  /** Attempts made so far. */
  readonly attempts: Ref.Ref<number>
  /** Creates the task when a start's codex reports its thread (writes the log, answers the CLI). */
  readonly onThread: (threadId: string) => Effect.Effect<TaskLocation, StoreFailure>
}

/**
 * One `codex exec` run of the prompt, every line into the task log as it arrives. Fails with
 * `AttemptFailed` when the run failed after the task existed; a start that failed before the
 * thread existed ends `NoTask`. The run's `-o` file is removed when the attempt ends, however it
 * ends, unless a completed turn made it the task's result.
 */
export const runAttempt = (ctx: AttemptContext, input: PromptInput) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const at = yield* ctx.log.location
    const scratch = Option.isSome(at)
      ? env.store.scratchResult(at.value)
      : scratchResultPath(env.startDir)
    return yield* attemptWith(ctx, input, scratch).pipe(
      // Gone already after a promotion: the removal is then a no-op. A leftover is swept later.
      Effect.ensuring(env.store.discardResult(scratch).pipe(Effect.ignore)),
    )
  })

const attemptWith = (ctx: AttemptContext, input: PromptInput, scratch: string) =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const { log } = ctx
    const { store } = env
    const attempt = (yield* Ref.getAndUpdate(ctx.attempts, (n) => n + 1)) + 1
    const sideEffects = yield* Ref.make(false)
    // A queued prompt's turn count and usage go into the turn's record (one write fewer between
    // queued turns); any other prompt's are written as the turn completes.
    const counted = yield* Ref.make<TurnRecord>((m) => m)

    const onEvent = (event: ThreadEvent) =>
      Effect.gen(function* () {
        if (hasSideEffects(event)) yield* Ref.set(sideEffects, true)
        const loc = yield* log.location
        if (isThreadStarted(event) && Option.isNone(loc)) {
          yield* Ref.set(ctx.thread, event.thread_id)
          yield* ctx.onThread(event.thread_id)
        } else if (isTurnCompleted(event) && Option.isSome(loc)) {
          const usage = storedUsage(event.usage)
          const count: TurnRecord = (m) => ({
            ...m,
            ...(usage === undefined ? {} : { usage }),
            turns: (m.turns ?? 0) + 1,
          })
          if (input.queued === true) yield* Ref.update(counted, (before) => (m) => count(before(m)))
          else yield* env.updateMeta(loc.value, count)
        }
      })

    // What the run starts is remembered in run.json, so a later stop or send can end it even
    // when this worker is killed outright (before the task exists: kept until `create`).
    const onProcessesSeen = (seen: ReadonlyArray<ProcessIdentity>) =>
      Effect.flatMap(Ref.set(env.seen, seen), () =>
        Effect.flatMap(log.location, (at) =>
          Option.isNone(at)
            ? Effect.void
            : store.recordRunProcesses(at.value, env.runId, seen).pipe(Effect.ignore),
        ),
      )
    // A used-up window codex reports mid-turn goes to the store's usage-limit record at once,
    // so other tasks wait before their turns fail too.
    const onUsageLimitReset = (resetAtMs: number) =>
      Effect.gen(function* () {
        const who = yield* usageIdentityOf(input.options)
        const at = yield* log.location
        const taskId = Option.isSome(at) ? at.value.id : undefined
        const now = yield* Clock.currentTimeMillis
        yield* recordUsageLimit(store.root, who, resetAtMs, now, taskId)
      }).pipe(Effect.ignore)
    // `send --steer` prompts join the turn in flight, each under the task lock: steered and
    // removed from the inbox together, or left there to run as a queued prompt.
    // Only prompts accepted while this run went on: an older one was meant for a turn that
    // ended, and its sender was told it is queued.
    const runStartedAt = yield* Clock.currentTimeMillis
    const deliverSteers = (loc: TaskLocation, steer: (prompt: string) => Effect.Effect<boolean>) =>
      store
        .withLock(
          loc,
          Effect.gen(function* () {
            for (const entry of yield* store.inboxPending(loc)) {
              if (entry.steer !== true || timestampMillis(entry.accepted_at) < runStartedAt)
                continue
              if (!(yield* steer(entry.prompt))) return
              yield* store.inboxRemove(loc, entry.seq)
              yield* log.write(userMessage(entry.prompt))
              yield* log.write(workerNote(steeredNote(entry.seq)))
            }
          }),
        )
        .pipe(Effect.uninterruptible, Effect.ignore)
    // The steer of the run in flight (app-server), for a decline's message.
    let steerRun: ((prompt: string) => Effect.Effect<boolean>) | undefined
    const steering = (steer: (prompt: string) => Effect.Effect<boolean>) =>
      Effect.gen(function* () {
        steerRun = steer
        for (;;) {
          yield* Effect.sleep(STEER_POLL_MS)
          const at = yield* log.location
          if (Option.isSome(at)) yield* deliverSteers(at.value, steer)
        }
      })
    // `--approvals ask`: codex's requests wait for `approve` / `decline` (services captured here).
    const services = yield* Effect.context<WorkerEnv | WorkerControl>()
    // `decline --message`: joins the turn right after the decline, or else is the next prompt.
    const tell = (message: string) =>
      Effect.gen(function* () {
        const joined = steerRun === undefined ? false : yield* steerRun(message)
        const at = yield* log.location
        if (joined) yield* log.write(userMessage(message))
        else if (Option.isSome(at)) yield* store.inboxPush(at.value, message)
        yield* log.write(
          workerNote(
            joined
              ? "the decline's message joined the running turn"
              : "the decline's message is queued as the next prompt (no turn in flight)",
          ),
        )
      }).pipe(Effect.ignore)
    // Requests waiting for an answer: the watchdog's clocks stop meanwhile.
    const held = yield* SubscriptionRef.make(0)
    const onApproval = (asked: ApprovalRequest) =>
      Effect.acquireUseRelease(
        SubscriptionRef.update(held, (n) => n + 1),
        () => awaitApproval(log, asked, input.options.approvalTimeoutMs, tell),
        () => SubscriptionRef.update(held, (n) => n - 1),
      ).pipe(
        Effect.provide(services),
        Effect.catchAll(() => Effect.succeed<ApprovalReply>({ decision: "decline" })),
      )
    const request = {
      prompt: input.prompt,
      options: input.options,
      outputLastMessage: scratch,
      resumeThreadId: yield* Ref.get(ctx.thread),
      runId: env.runId,
      onProcessesSeen,
      onUsageLimitReset,
      // `--approvals never`: codex's requests (e.g. for input) are declined by the client.
      onApproval: input.options.approvals === "ask" ? onApproval : undefined,
    }
    const limits = yield* Ref.get(env.limits)
    const watch = {
      stallTimeoutMs: limits.stall_timeout_ms,
      turnTimeoutMs: limits.turn_timeout_ms,
      held,
    }
    const ran = yield* withRunSlot(
      log,
      // After the slot wait, right before the spawn: the gate's paths must still be where it saw them.
      Effect.zipRight(
        pinsHold(env.pinnedPaths),
        runInvocation(request, { log: log.write, onEvent, steering }, watch),
      ),
      // Stopped while waiting for a run slot: the turn ends interrupted, codex never ran.
      Effect.succeed<InvocationResult>({
        outcome: { _tag: "Interrupted", threadId: undefined },
        exitCode: null,
        signal: null,
        stderrTail: [],
      }),
    ).pipe(
      Effect.map((result) => Either.right(result)),
      Effect.catchIf(isExecError, (e) => Effect.succeed(Either.left(e))),
    )
    const loc = yield* log.location
    if (Option.isNone(loc)) {
      const error = ran._tag === "Left" ? ran.left : failureOf(ran.right)
      return { _tag: "NoTask", error } satisfies PromptResult
    }
    if (ran._tag === "Left") {
      // codex could not be started at all
      return yield* fail(loc.value, ran.left, false, attempt, counted)
    }
    const result = ran.right
    const outcome = result.outcome
    if (result.cut !== undefined && outcome._tag !== "Completed") {
      if (result.cut === "stalled") {
        const error = new Stalled({
          message: `The turn printed nothing for ${watch.stallTimeoutMs} ms with no command running (--stall-timeout), so it was interrupted; a retry may work.`,
          evidence: {
            exitCode: result.exitCode,
            signal: result.signal,
            stderrTail: result.stderrTail.slice(-20),
            lastEvents: [],
          },
        })
        return yield* fail(loc.value, error, yield* Ref.get(sideEffects), attempt, counted)
      }
      const before = yield* Ref.get(counted)
      const timedOut: TurnRecord = (m) => ({
        ...before(m),
        last_outcome: {
          kind: "timed_out",
          message: `the turn ran longer than ${watch.turnTimeoutMs} ms (--turn-timeout) and was interrupted`,
          at: nowTimestamp(),
        },
      })
      return yield* recorded(loc.value, "Interrupted", timedOut, input.queued)
    }
    if (outcome._tag === "Failed") {
      return yield* fail(loc.value, outcome.error, yield* Ref.get(sideEffects), attempt, counted)
    }
    // The result file is promoted only after a completed turn with a final message.
    const text =
      outcome._tag === "Completed" ? yield* store.promoteResult(loc.value, scratch) : undefined
    const before = yield* Ref.get(counted)
    const record: TurnRecord = (m) => ({
      ...before(m),
      last_outcome: outcomeOf(result),
      ...(text === undefined ? {} : { last_result: text }),
    })
    return yield* recorded(loc.value, outcome._tag, record, input.queued)
  })

/** A turn's end: its record written now, or, for a queued prompt, handed to the queue. */
const recorded = (
  loc: TaskLocation,
  tag: "Completed" | "Interrupted",
  record: TurnRecord,
  queued: boolean | undefined,
): Effect.Effect<PromptResult, StoreFailure, WorkerEnv> =>
  queued === true
    ? Effect.succeed({ _tag: tag, loc, record })
    : Effect.flatMap(WorkerEnv, (env) => Effect.as(env.updateMeta(loc, record), { _tag: tag, loc }))

/** Fails (fatal, never retried) when a pinned path no longer resolves to its checked real path. */
const pinsHold = (pins: ReadonlyArray<PinnedPath>) =>
  Effect.suspend(() => {
    const moved = movedPaths(pins)
    if (moved.length === 0) return Effect.void
    return new SpawnFailed({
      message: `codex was not started: ${moved.join("; ")}. The MCP server checked these paths when the task was given to it; it does not follow a link changed afterwards.`,
      code: "PATH_MOVED",
      evidence: { exitCode: null, signal: null, stderrTail: [], lastEvents: [] },
    })
  })

const failureOf = (result: ExecResult): ExecError | undefined =>
  result.outcome._tag === "Failed" ? result.outcome.error : undefined

/** Records a failed attempt (log entry, outcome) and fails with it. */
const fail = (
  loc: TaskLocation,
  error: ExecError,
  sideEffects: boolean,
  attempt: number,
  counted: Ref.Ref<TurnRecord>,
) =>
  Effect.gen(function* () {
    const before = yield* Ref.get(counted)
    const env = yield* WorkerEnv
    const failure = new AttemptFailed({ loc, error, sideEffects, attempt })
    const stopping = yield* isStopping()
    const willRetry = worthRetrying(failure) && attempt <= env.retry.maxRetries && !stopping
    yield* env.store.appendLog(loc, invocationFailed(error._tag, error.message, willRetry))
    yield* env.updateMeta(loc, (m) => ({
      ...before(m),
      last_outcome: {
        kind: "failed",
        error_class: error._tag,
        message: error.message,
        at: nowTimestamp(),
      },
    }))
    return yield* failure
  })
