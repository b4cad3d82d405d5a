import { statSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import {
  effectiveState,
  type TaskMeta,
  type TaskOutcome,
  type TaskState,
  type TaskUsage,
} from "../domain/task.js"
import type { TaskJson } from "../domain/wire.js"
import { mayHavePending } from "../store/inbox.js"
import { WORKER_STDERR } from "../store/scratchNames.js"
import type { TaskLocation, TaskStore } from "../store/TaskStore.js"
import { readWorkerIdentity } from "../store/workerFiles.js"
import type { LeftoverProcess } from "./leftovers.js"

/** Everything `status` and `ls` show about one task. */
export interface TaskView {
  readonly loc: TaskLocation
  readonly meta: TaskMeta
  /** The effective state (a RUNNING task whose worker is gone reads DIED). */
  readonly state: TaskState
  readonly outcome: TaskOutcome | undefined
  /** The worker's pid while the task runs. */
  readonly pid: number | undefined
  /** Prompts waiting in the inbox. */
  readonly queued: number
  /** The last final message (`task.result`, else `last_result`). */
  readonly lastResult: string | undefined
  /** Processes its last worker left running (only when looked up: `status`; see `withLeftovers`). */
  readonly leftovers?: ReadonlyArray<LeftoverProcess> | undefined
  /** When the worker was lost or failed: its stderr file, if it wrote anything there. */
  readonly workerStderr?: string | undefined
  /** Worktree tasks (looked up by `status`: `worktreeView.ts`): branch, base, changed files. */
  readonly worktree?:
    | {
        readonly path: string
        readonly branch: string
        readonly base: string
        readonly changedFiles: number
      }
    | undefined
  /** Files changed by the `file_change` items of the last turn (looked up by `status`). */
  readonly lastTurnFiles?: ReadonlyArray<string> | undefined
}

/** The worker's stderr file of a task whose worker ended badly, when it is not empty. */
const stderrOf = (loc: TaskLocation, outcome: TaskOutcome | undefined): string | undefined => {
  const ended = outcome?.kind === "worker_lost" || outcome?.error_class === "WorkerFailed"
  if (!ended || loc.layout === "flat") return undefined
  try {
    const path = join(loc.dir, WORKER_STDERR)
    return statSync(path).size > 0 ? path : undefined
  } catch {
    return undefined
  }
}

/**
 * The view `viewOf` builds (without the result), built synchronously for the common task of a
 * listing: one that is not stored RUNNING (no worker to ask) and has no prompt queued in its
 * inbox. Undefined for any other task: `viewOf` it.
 */
export const settledViewOf = (loc: TaskLocation, meta: TaskMeta): TaskView | undefined => {
  if (meta.state === "RUNNING" && !loc.archived) return undefined
  if (!loc.archived && loc.layout !== "flat" && mayHavePending(loc.dir)) return undefined
  const { state, outcome } = effectiveState(meta, false)
  return {
    loc,
    meta,
    state: loc.archived ? "ARCHIVED" : state,
    outcome,
    pid: undefined,
    queued: 0,
    lastResult: meta.last_result,
    workerStderr: stderrOf(loc, outcome),
  }
}

/** Builds the view of a task from its metadata and the live state of its worker. */
export const viewOf = (
  store: TaskStore,
  loc: TaskLocation,
  initialMeta: TaskMeta,
  options: { readonly withResult: boolean } = { withResult: true },
) =>
  Effect.gen(function* () {
    let meta = initialMeta
    // Liveness only matters to a task stored RUNNING (effectiveState ignores it otherwise).
    const alive =
      loc.archived || initialMeta.state !== "RUNNING" ? false : yield* store.workerAlive(loc)
    // A worker writes its final state and then exits: a RUNNING read just before that, followed by
    // the liveness check just after, is not a lost worker. Read the state again before saying so.
    if (meta.state === "RUNNING" && alive === false) {
      meta = yield* store.read(loc).pipe(Effect.orElseSucceed(() => meta))
    }
    const { state, outcome } = effectiveState(meta, alive)
    const pid = state === "RUNNING" ? readWorkerIdentity(loc.dir)?.pid : undefined
    // Always counted from the inbox: whatever the state says, a prompt waiting there is shown.
    const queued = loc.archived
      ? 0
      : yield* store.inboxPending(loc).pipe(
          Effect.map((p) => p.length),
          Effect.orElseSucceed(() => 0),
        )
    const result = options.withResult
      ? yield* store.readResult(loc).pipe(Effect.orElseSucceed(() => undefined))
      : undefined
    return {
      loc,
      meta,
      state: loc.archived ? "ARCHIVED" : state,
      outcome,
      pid,
      queued,
      lastResult: result ?? meta.last_result,
      workerStderr: stderrOf(loc, outcome),
    } satisfies TaskView
  })

// A task recorded before cache writes were kept reports 0 for them.
const jsonResult = (text: string | undefined): { readonly result_json?: unknown } => {
  const trimmed = text?.trim() ?? ""
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return {}
  try {
    return { result_json: JSON.parse(trimmed) }
  } catch {
    return {}
  }
}

const usageJson = (u: TaskUsage | undefined) =>
  u === undefined
    ? null
    : {
        ...u,
        cache_write_input_tokens: u.cache_write_input_tokens ?? 0,
      }

/**
 * The JSON form of a task (`status --json`, `ls --json`, MCP): the Rust tool's snake_case keys
 * first (`id`, `title`, `state`, `created_at`, `updated_at`, `last_prompt`, `last_result`,
 * `working_dir`, `pid`), then ours. Documented in docs/json-output.md.
 */
export const viewJson = (v: TaskView): TaskJson => ({
  id: v.loc.id,
  title: v.meta.title ?? null,
  state: v.state,
  created_at: v.meta.created_at,
  updated_at: v.meta.updated_at,
  last_prompt: v.meta.last_prompt ?? null,
  last_result: v.lastResult ?? null,
  working_dir: v.meta.working_dir ?? null,
  pid: v.pid ?? null,
  initial_prompt: v.meta.initial_prompt ?? null,
  outcome: v.outcome ?? null,
  queued_prompts: v.queued,
  dropped_prompts: v.meta.dropped_prompts ?? 0,
  turns: v.meta.turns ?? 0,
  usage: usageJson(v.meta.usage),
  archived: v.loc.archived,
  path: v.loc.dir,
  worker_stderr: v.workerStderr ?? null,
  // The final answer parsed, when it is JSON (as with --output-schema); absent otherwise.
  ...jsonResult(v.lastResult),
  // Only a running task waits; a stale field left by a lost worker is not shown.
  waiting: v.state === "RUNNING" ? (v.meta.waiting ?? null) : null,
  ...(v.leftovers === undefined ? {} : { leftover_processes: v.leftovers }),
  ...(v.lastTurnFiles === undefined
    ? {}
    : {
        last_turn_files: v.lastTurnFiles,
        worktree:
          v.worktree === undefined
            ? null
            : {
                path: v.worktree.path,
                branch: v.worktree.branch,
                base: v.worktree.base,
                changed_files: v.worktree.changedFiles,
              },
      }),
})
