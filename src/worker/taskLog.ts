import { Effect, Option, Ref } from "effect"
import type { StoreError } from "../store/errors.js"
import type { TaskLocation, TaskStore } from "../store/TaskStore.js"

/**
 * The log of the task a worker runs, as the worker writes it. Before codex reported the thread
 * (the first invocation of a start) there is no task directory yet: chunks are held in memory, in
 * order, and `attach` writes them out once the directory exists. Afterwards every chunk is
 * appended as it comes.
 */
export interface TaskLog {
  /** Persists one chunk (a raw stdout line with its `\n`, or a synthetic entry). */
  readonly write: (chunk: string | Uint8Array) => Effect.Effect<void, StoreError>
  /** The task now exists at `loc`: writes what was held back and appends from now on. */
  readonly attach: (loc: TaskLocation) => Effect.Effect<void, StoreError>
  /** Where the task is, once it exists. */
  readonly location: Effect.Effect<Option.Option<TaskLocation>>
}

type State =
  | { readonly _tag: "Buffering"; readonly chunks: ReadonlyArray<string | Uint8Array> }
  | { readonly _tag: "Attached"; readonly loc: TaskLocation }

/** A task log for an existing task (`loc`), or one that buffers until `attach`. */
export const makeTaskLog = (store: TaskStore, loc?: TaskLocation) =>
  Effect.map(
    Ref.make<State>(
      loc === undefined ? { _tag: "Buffering", chunks: [] } : { _tag: "Attached", loc },
    ),
    (state): TaskLog => ({
      write: (chunk) =>
        Effect.flatMap(
          Ref.modify(state, (s): [TaskLocation | undefined, State] =>
            s._tag === "Attached"
              ? [s.loc, s]
              : [undefined, { _tag: "Buffering", chunks: [...s.chunks, chunk] }],
          ),
          (at) => (at === undefined ? Effect.void : store.appendLog(at, chunk)),
        ),
      attach: (at) =>
        Effect.flatMap(Ref.getAndSet(state, { _tag: "Attached", loc: at }), (previous) =>
          previous._tag === "Buffering" && previous.chunks.length > 0
            ? store.appendLog(at, Buffer.concat(previous.chunks.map(toBuffer)))
            : Effect.void,
        ),
      location: Effect.map(Ref.get(state), (s) =>
        s._tag === "Attached" ? Option.some(s.loc) : Option.none(),
      ),
    }),
  )

const toBuffer = (chunk: string | Uint8Array): Buffer =>
  typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk)
