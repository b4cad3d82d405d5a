import { Context, Effect, type Ref, Schedule } from "effect"
import type { TaskLimits } from "../domain/policy.js"
import type { RetryPolicy } from "../domain/retryPolicy.js"
import type { TaskMeta } from "../domain/task.js"
import type { PinnedPath } from "../exec/pinnedPaths.js"
import type { ProcessIdentity } from "../processes/identity.js"
import type { StoreFailure } from "../store/errors.js"
import type { TaskLocation, TaskStore } from "../store/TaskStore.js"

/**
 * What every part of the worker shares: the store, its identity and settings; a service the worker
 * functions read from their context (stop requests are the `WorkerControl` service).
 */
export class WorkerEnv extends Context.Tag("codex-tasks/WorkerEnv")<
  WorkerEnv,
  {
    readonly store: TaskStore
    /** Marker every codex process of this worker carries (see `processes/Processes.ts`). */
    readonly runId: string
    /** This worker process. */
    readonly self: ProcessIdentity | undefined
    readonly retry: RetryPolicy
    /** The start's scratch directory (its `-o` file lives there until the task exists). */
    readonly startDir: string
    /** The processes the runs started, as last seen (persisted to run.json once the task exists). */
    readonly seen: Ref.Ref<ReadonlyArray<ProcessIdentity>>
    /** The task's limits (the Start request's, or `task.json`'s `limits` for a resume). */
    readonly limits: Ref.Ref<TaskLimits>
    /** Paths the MCP gate checked: codex is not spawned once one resolves elsewhere. */
    readonly pinnedPaths: ReadonlyArray<PinnedPath>
    /** The shortest usage-limit wait once the reported minute has begun (30 s; tests lower it). */
    readonly limitFloorMs: number
    /** `task.json` read-modify-write under the task lock, waiting out a busy lock. */
    readonly updateMeta: (
      loc: TaskLocation,
      f: (meta: TaskMeta) => TaskMeta,
    ) => Effect.Effect<TaskMeta, StoreFailure>
  }
>() {}

// Another command may hold the task lock longer than one acquisition waits (10 s; a slow disk, a
// stop killing a tree): the worker keeps trying rather than dying with the task half-recorded.
const busyLock = Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(300)))

/** Retries `effect` while it fails because the task lock stayed busy (about 5 minutes at most). */
export const waitingOutLock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(effect, {
    schedule: busyLock,
    while: (e) => typeof e === "object" && e !== null && "_tag" in e && e._tag === "LockTimeout",
  })
