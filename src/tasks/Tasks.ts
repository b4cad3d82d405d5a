import { Effect, Either } from "effect"
import type { TaskState } from "../domain/task.js"
import { WorkerLauncher } from "../launcher/WorkerLauncher.js"
import { Processes } from "../processes/Processes.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { readWorkerIdentity } from "../store/workerFiles.js"
import { archiveTasks } from "./archive.js"
import { makeLaunches } from "./launch.js"
import { readLog } from "./logReader.js"
import { type LogWindowRequest, logWindow } from "./logWindow.js"
import { currentState, listTasks, type Selector, selectTasks, waitForTasks } from "./queries.js"
import { type StatusRequest, statusOf } from "./status.js"
import { type StopReport, stopPendingStarts, stopTask } from "./stop.js"
import { TasksConfig } from "./TasksConfig.js"
import { applyTaskChanges, taskChanges } from "./taskDiff.js"
import { followTurn, waitForTurn } from "./turns.js"
import type { BranchPolicy } from "./worktree.js"

export type { ArchiveReport, ArchiveSummary } from "./archive.js"
export type { AcceptedPrompt, SendReceipt, StartInput } from "./launch.js"
export type { LogWindow, LogWindowRequest } from "./logWindow.js"
export type { Selector, Unreadable } from "./queries.js"
export type { StatusReport, StatusRequest, StatusVerdict } from "./status.js"
export type { StopReport } from "./stop.js"
export { TasksConfig, type TasksConfigShape } from "./TasksConfig.js"
export type { TurnEnd } from "./turns.js"

/** How `readLog` keeps reading after the end: not at all, while the task runs, or until interrupted. */
export type FollowMode = "none" | "while-running" | "forever"

/**
 * The task operations, the one façade the CLI and the MCP server use: each command or tool parses
 * its input, calls one method and formats what it returns.
 */
export class Tasks extends Effect.Service<Tasks>()("codex-tasks/Tasks", {
  effect: Effect.gen(function* () {
    const store = yield* TaskStore
    const launcher = yield* WorkerLauncher
    const config = yield* TasksConfig
    const processes = yield* Processes
    // The launcher too: a command that finds a worker lost starts its notifier (endNotify.ts).
    const withServices = <A, E>(effect: Effect.Effect<A, E, TaskStore | Processes>) =>
      effect.pipe(
        Effect.provideService(TaskStore, store),
        Effect.provideService(Processes, processes),
        Effect.provideService(WorkerLauncher, launcher),
      )
    const { start, send, steered } = makeLaunches(store, launcher, config, processes)

    /**
     * Stops the given tasks (or every task when `refs` is "all"). An id that matches no task is
     * reported and the others are still stopped.
     */
    const stop = Effect.fn("Tasks.stop")(function* (
      refs: ReadonlyArray<string> | "all",
      options: { readonly afterTurn: boolean; readonly timeoutMs: number },
    ) {
      // `stop -a` also clears what killed processes left (tasks whose creation never finished).
      if (refs === "all") yield* store.sweepScratch(undefined).pipe(Effect.ignore)
      const all = refs === "all" ? yield* store.list({ includeArchived: false }) : []
      // ... and what a command killed while it wrote to a task left (a half-written inbox file)
      for (const entry of all) yield* store.sweepTaskTemps(entry.loc).pipe(Effect.ignore)
      const resolved =
        refs === "all"
          ? all.map((e) => Either.right(e.loc))
          : yield* Effect.forEach(refs, (ref) =>
              store.resolve(ref).pipe(
                Effect.mapError(
                  (e) => ({ id: ref, status: "unknown", message: e.message }) satisfies StopReport,
                ),
                Effect.either,
              ),
            )
      const tasks = Effect.forEach(
        resolved,
        (r) =>
          Either.isLeft(r)
            ? Effect.succeed<StopReport>(r.left)
            : withServices(stopTask(r.right, options.afterTurn, options.timeoutMs)),
        { concurrency: "unbounded" },
      )
      if (refs !== "all") return yield* tasks
      // Starts still waiting for their task (a run slot, codex's thread) are stopped too.
      const taskWorkers = resolved.flatMap((r) => {
        const w = Either.isRight(r) ? readWorkerIdentity(r.right.dir) : undefined
        return w === undefined ? [] : [w]
      })
      const [stopped, pending] = yield* Effect.all(
        [tasks, withServices(stopPendingStarts(store.root, taskWorkers, options.timeoutMs))],
        { concurrency: "unbounded" },
      )
      return [...stopped, ...pending]
    })

    return {
      start,
      send,
      /** Whether steered prompt `seq` joined the turn in flight (waits for the worker to decide). */
      steered,
      stop,
      /** Archives the named tasks (or every task that is not running). */
      archive: Effect.fn("Tasks.archive")(
        (refs: ReadonlyArray<string> | "all", branch?: BranchPolicy) =>
          withServices(archiveTasks(refs, branch)),
      ),
      /** Finds a task by id or unique prefix. */
      resolve: (ref: string, options?: { readonly includeArchived?: boolean }) =>
        store.resolve(ref, options),
      /** All tasks, newest first, optionally only in `states`; unreadable ones apart. */
      list: (options: {
        readonly includeArchived: boolean
        readonly states?: ReadonlyArray<TaskState> | undefined
      }) => withServices(listTasks(options)),
      /** The selected tasks' views; unknown ids reported apart. */
      select: (selector: Selector) => withServices(selectTasks(selector)),
      /** `status`: the selected tasks, optionally after waiting for them to finish. */
      status: Effect.fn("Tasks.status")((request: StatusRequest) =>
        withServices(statusOf(request)),
      ),
      /** Waits until all (or any) of the tasks finish; their views. */
      wait: (locs: ReadonlyArray<TaskLocation>, mode: "all" | "any") =>
        withServices(waitForTasks(locs, mode)),
      /** Waits for the end of the task's turn (the one of inbox place `seq`, when given). */
      waitForTurn: (id: string, seq?: number) => withServices(waitForTurn(id, seq)),
      /** Streams the log from `offset` while the task runs (from `prompt`'s entry, when given). */
      followTurn: (
        id: string,
        offset: number,
        onLines: (lines: ReadonlyArray<Buffer>) => Effect.Effect<void>,
        prompt?: string,
      ) => withServices(followTurn(id, offset, onLines, prompt)),
      /** The task's state as the user would see it now. */
      currentState: (loc: TaskLocation) => withServices(currentState(loc)),
      /** Reads the task's log (all, or the last lines) to `onLines`, following it per `follow`. */
      readLog: (
        loc: TaskLocation,
        onLines: (lines: ReadonlyArray<Buffer>) => Effect.Effect<void>,
        options: { readonly lastLines?: number | undefined; readonly follow: FollowMode },
      ) =>
        readLog(store.logPath(loc), onLines, {
          lastLines: options.lastLines,
          follow:
            options.follow === "none"
              ? undefined
              : {
                  done:
                    options.follow === "forever"
                      ? Effect.succeed(false)
                      : Effect.map(withServices(currentState(loc)), (s) => s !== "RUNNING"),
                },
        }),
      /** What the task changed (`diff`): a worktree task against its base, else its patches' files. */
      changes: (ref: string, options: { readonly color: boolean; readonly patch: boolean }) =>
        Effect.gen(function* () {
          const loc = yield* store.resolve(ref, { includeArchived: true })
          const meta = yield* store.read(loc)
          const changes = yield* taskChanges(loc.dir, store.logPath(loc), meta.working_dir, options)
          return { id: loc.id, changes }
        }),
      /** Applies a worktree task's changes to the directory it started from (`apply`). */
      applyChanges: (ref: string, commit: boolean) =>
        Effect.gen(function* () {
          const loc = yield* store.resolve(ref, { includeArchived: true })
          const meta = yield* store.read(loc)
          return {
            id: loc.id,
            applied: yield* applyTaskChanges(loc.dir, loc.id, meta.title, commit),
          }
        }),
      /** One window of the log (MCP `task_log`), optionally after waiting for new events. */
      logWindow: (loc: TaskLocation, request: LogWindowRequest) =>
        withServices(logWindow(loc, request)),
    } as const
  }),
}) {}
