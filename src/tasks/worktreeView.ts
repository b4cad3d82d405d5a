import { Effect } from "effect"
import type { TaskStore } from "../store/TaskStore.js"
import { fileChangesOf, lastTurnOffset, taskChanges } from "./taskDiff.js"
import type { TaskView } from "./view.js"

/** `status`'s view of a task with its worktree (branch, base, changed files) and last turn's files. */
export const withChanges = (store: TaskStore, views: ReadonlyArray<TaskView>) =>
  Effect.forEach(views, (v) =>
    Effect.gen(function* () {
      const log = store.logPath(v.loc)
      const lastTurnFiles = fileChangesOf(log, lastTurnOffset(log))
      const c = yield* taskChanges(v.loc.dir, log, v.meta.working_dir, {
        color: false,
        patch: false,
      }).pipe(Effect.option)
      const w = c._tag === "Some" ? c.value.worktree : undefined
      return {
        ...v,
        lastTurnFiles,
        ...(w === undefined || c._tag === "None"
          ? {}
          : {
              worktree: {
                path: w.path,
                branch: w.branch,
                base: w.base,
                changedFiles: c.value.files.length,
              },
            }),
      } satisfies TaskView
    }),
  )
