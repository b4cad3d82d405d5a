import { Effect, Option } from "effect"
import { promptsDropped } from "../domain/logEntries.js"
import type { TaskMeta } from "../domain/task.js"
import type { CorruptTask, LockTimeout, StoreError, TaskNotFound } from "./errors.js"
import { StoreError as StoreErrorClass } from "./errors.js"
import * as Inbox from "./inbox.js"
import { isFlat, type TaskLocation, taskPaths } from "./layout.js"

/** What the inbox operations need from the task store. */
export interface InboxDeps {
  readonly read: (loc: TaskLocation) => Effect.Effect<TaskMeta, TaskNotFound | CorruptTask>
  readonly update: (
    loc: TaskLocation,
    f: (meta: TaskMeta) => TaskMeta,
  ) => Effect.Effect<TaskMeta, TaskNotFound | CorruptTask | LockTimeout | StoreError>
  readonly appendLog: (
    loc: TaskLocation,
    data: string | Uint8Array,
  ) => Effect.Effect<void, StoreError>
  readonly withLock: <A, E, R>(
    loc: TaskLocation,
    effect: Effect.Effect<A, E, R>,
  ) => Effect.Effect<A, E | LockTimeout | StoreError, R>
}

// Legacy flat-era tasks have no directory: no inbox.
const noInbox = (loc: TaskLocation) =>
  new StoreErrorClass({
    message: `task ${loc.id} is in the Rust tool's flat format and has no inbox`,
    path: taskPaths(loc).json,
  })

/**
 * A task's durable prompt queue as the store offers it: push, take (in flight until finished),
 * drop (visibly), and recovery of prompts a lost worker had taken. Everything under the task lock.
 */
/** `m` with the inbox entry `seq` recorded done. */
const doneUpTo = (m: TaskMeta, seq: number): TaskMeta => ({
  ...m,
  inbox_done_seq: Math.max(m.inbox_done_seq ?? 0, seq),
})

export const makeTaskInbox = ({ read, update, appendLog, withLock }: InboxDeps) => {
  const inboxPush = Effect.fn("TaskStore.inboxPush")(function* (
    loc: TaskLocation,
    prompt: string,
    steer = false,
  ) {
    if (isFlat(loc)) return yield* noInbox(loc)
    return yield* withLock(
      loc,
      Effect.flatMap(read(loc), (meta) =>
        Inbox.push(loc.dir, prompt, meta.inbox_done_seq ?? 0, steer),
      ),
    )
  })
  const inboxDrain = Effect.fn("TaskStore.inboxDrain")(function* (loc: TaskLocation) {
    if (isFlat(loc)) return []
    return yield* withLock(loc, Inbox.drain(loc.dir))
  })

  /** Records prompts as dropped, visibly: a `prompts_dropped` log entry and `dropped_prompts`. */
  const recordDropped = (loc: TaskLocation, prompts: ReadonlyArray<string>, reason?: string) =>
    prompts.length === 0
      ? Effect.void
      : Effect.zipRight(
          appendLog(loc, promptsDropped(prompts, reason)),
          update(loc, (m) => ({
            ...m,
            dropped_prompts: (m.dropped_prompts ?? 0) + prompts.length,
          })),
        )

  /**
   * Drops every queued prompt, visibly: they move from the inbox into a `prompts_dropped` log
   * entry (with `reason` when it is not a stop) and are counted in `dropped_prompts` (a prompt
   * is never lost silently). They leave the queue first (`.dropping`), then the drop is recorded,
   * then their files go: a crash in between never runs a prompt the log calls dropped, and
   * `recoverInFlight` records what it left unrecorded (twice, if it hit between the record and
   * the removal).
   */
  const dropQueued = Effect.fn("TaskStore.dropQueued")(function* (
    loc: TaskLocation,
    reason?: string,
  ) {
    if (isFlat(loc)) return 0
    return yield* withLock(
      loc,
      Effect.gen(function* () {
        const queued = yield* Inbox.pending(loc.dir)
        yield* Inbox.markDropping(
          loc.dir,
          queued.map((e) => e.seq),
        )
        yield* recordDropped(
          loc,
          queued.map((d) => d.prompt),
          reason,
        )
        for (const entry of queued) yield* Inbox.finishDropping(loc.dir, entry.seq)
        return queued.length
      }),
    )
  })

  /**
   * Takes the oldest queued prompt for delivery (under the lock): it leaves the queue but stays
   * on disk as in flight until `inboxFinish`, and becomes the task's `last_prompt` first.
   */
  const inboxTake = Effect.fn("TaskStore.inboxTake")(function* (loc: TaskLocation) {
    if (isFlat(loc)) return Option.none<Inbox.InboxEntry>()
    return yield* withLock(
      loc,
      Effect.gen(function* () {
        const next = yield* Inbox.peek(loc.dir)
        if (Option.isNone(next)) return next
        yield* Inbox.take(loc.dir, next.value.seq)
        yield* update(loc, (m) => ({ ...m, last_prompt: next.value.prompt, state: "RUNNING" }))
        return next
      }),
    )
  })

  /**
   * A taken prompt's turn is over: `inbox_done_seq` records it (with `record`, what the turn
   * records), then its file goes.
   */
  const inboxFinish = Effect.fn("TaskStore.inboxFinish")(function* (
    loc: TaskLocation,
    seq: number,
    record: (meta: TaskMeta) => TaskMeta = (m) => m,
  ) {
    yield* withLock(
      loc,
      Effect.zipRight(
        update(loc, (m) => doneUpTo(record(m), seq)),
        Inbox.finish(loc.dir, seq),
      ),
    )
  })

  /**
   * A taken prompt's turn is over and the next queued one is taken, with one write of
   * `task.json` (the turn's `record`, `inbox_done_seq`, the next prompt as `last_prompt`), then
   * the next entry goes in flight and the finished one's file goes. None when nothing is queued
   * (the record is written all the same). A crash before the next entry moved leaves it queued.
   */
  const inboxAdvance = Effect.fn("TaskStore.inboxAdvance")(function* (
    loc: TaskLocation,
    seq: number,
    record: (meta: TaskMeta) => TaskMeta = (m) => m,
  ) {
    return yield* withLock(
      loc,
      Effect.gen(function* () {
        const next = isFlat(loc) ? Option.none<Inbox.InboxEntry>() : yield* Inbox.peek(loc.dir)
        yield* update(loc, (m) => {
          const done = doneUpTo(record(m), seq)
          return Option.isNone(next)
            ? done
            : { ...done, last_prompt: next.value.prompt, state: "RUNNING" }
        })
        if (Option.isSome(next)) yield* Inbox.take(loc.dir, next.value.seq)
        yield* Inbox.finish(loc.dir, seq)
        return next
      }),
    )
  })

  /**
   * Prompts a lost worker had taken but not finished: recorded as dropped (they may have run
   * partly, so they are not run again), then removed. Returns how many there were.
   */
  const recoverInFlight = Effect.fn("TaskStore.recoverInFlight")(function* (loc: TaskLocation) {
    if (isFlat(loc)) return 0
    return yield* withLock(
      loc,
      Effect.gen(function* () {
        const done = (yield* read(loc)).inbox_done_seq ?? 0
        const taken = yield* Inbox.inFlight(loc.dir)
        const unfinished = taken.filter((e) => e.seq > done)
        yield* recordDropped(
          loc,
          unfinished.map((e) => e.prompt),
          "its worker was lost before the turn finished",
        )
        for (const entry of taken) yield* Inbox.finish(loc.dir, entry.seq)
        // A drop cut short by a crash: the prompts left the queue, the record may be missing.
        const cut = yield* Inbox.dropping(loc.dir)
        yield* recordDropped(
          loc,
          cut.map((e) => e.prompt),
          "they were being dropped when the process dropping them was lost",
        )
        for (const entry of cut) yield* Inbox.finishDropping(loc.dir, entry.seq)
        return unfinished.length + cut.length
      }),
    )
  })

  return {
    /** Queues a prompt durably (takes the task lock); returns its sequence number and position. */
    inboxPush,
    inboxTake,
    inboxFinish,
    inboxAdvance,
    recoverInFlight,
    /** All queued prompts in order. */
    inboxPending: (loc: TaskLocation) =>
      (isFlat(loc)
        ? Effect.succeed<ReadonlyArray<Inbox.InboxEntry>>([])
        : Inbox.pending(loc.dir)
      ).pipe(Effect.withSpan("TaskStore.inboxPending")),
    /** The prompts taken for a turn and not finished: the turn in flight (none for a flat task). */
    inboxInFlight: (loc: TaskLocation) =>
      (isFlat(loc)
        ? Effect.succeed<ReadonlyArray<Inbox.InboxEntry>>([])
        : Inbox.inFlight(loc.dir)
      ).pipe(Effect.withSpan("TaskStore.inboxInFlight")),
    /** Removes a queued prompt (a `send` whose worker could not start takes it back). */
    inboxRemove: (loc: TaskLocation, seq: number) =>
      (isFlat(loc) ? Effect.void : Inbox.remove(loc.dir, seq)).pipe(
        Effect.withSpan("TaskStore.inboxRemove"),
      ),
    /** Removes and returns all queued prompts (takes the task lock). */
    inboxDrain,
    dropQueued,
  } as const
}
