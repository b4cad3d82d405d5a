import { Data, Effect } from "effect"

/** A filesystem operation of the store failed (wraps the platform error). */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly message: string
  readonly path: string
  readonly cause?: unknown
}> {}

/** No task matches the given id or prefix. */
export class TaskNotFound extends Data.TaggedError("TaskNotFound")<{ readonly ref: string }> {
  override get message(): string {
    return `no task matches ${JSON.stringify(this.ref)}`
  }
}

/** An id prefix matches several tasks. */
export class AmbiguousTaskId extends Data.TaggedError("AmbiguousTaskId")<{
  readonly ref: string
  readonly candidates: ReadonlyArray<string>
}> {
  override get message(): string {
    return `task id prefix ${JSON.stringify(this.ref)} is ambiguous; it matches: ${this.candidates.join(", ")}`
  }
}

/** A task directory with this id already exists. */
export class TaskExists extends Data.TaggedError("TaskExists")<{ readonly id: string }> {
  override get message(): string {
    return `task ${this.id} already exists`
  }
}

/** A task's `task.json` cannot be read or decoded. */
export class CorruptTask extends Data.TaggedError("CorruptTask")<{
  readonly id: string
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `task ${this.id} is corrupt (${this.path}): ${this.reason}`
  }
}

/** The task lock could not be acquired in time. */
export class LockTimeout extends Data.TaggedError("LockTimeout")<{
  readonly path: string
  readonly timeoutMs: number
  readonly holder: string | undefined
}> {
  override get message(): string {
    const by = this.holder === undefined ? "" : ` (held by ${this.holder})`
    return `timed out after ${this.timeoutMs} ms waiting for the task lock ${this.path}${by}`
  }
}

/** Wraps a Node fs error into a StoreError naming the operation and path. */
export const storeError =
  (operation: string, path: string) =>
  (cause: unknown): StoreError => {
    const detail = cause instanceof Error ? cause.message : String(cause)
    return new StoreError({ message: `${operation} ${path} failed: ${detail}`, path, cause })
  }

/** Runs a Node fs promise, failing with a StoreError naming the operation and path. */
export const tryFs = <A>(operation: string, path: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: storeError(operation, path) })

/** The errno code of a Node fs error, if any. */
export const errnoCode = (cause: unknown): string | undefined =>
  (cause as NodeJS.ErrnoException | undefined)?.code

/** Any failure of a store operation (what the worker records when it cannot go on). */
export type StoreFailure =
  | StoreError
  | LockTimeout
  | TaskNotFound
  | CorruptTask
  | TaskExists
  | AmbiguousTaskId
  | import("../domain/taskId.js").InvalidTaskId
