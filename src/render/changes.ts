import type { TaskChanges } from "../tasks/taskDiff.js"

/** What the texts need of a task's changes (a fleet client has them as `diff --json` shows them). */
type Shown = Pick<TaskChanges, "files" | "patch" | "touched"> & { readonly worktree: unknown }

// What `diff` prints without --json (and `task_diff` answers as its text).

const count = (n: number | null) => (n === null ? "-" : String(n))

/** `diff --stat`: one line per file with its counts, then the totals. */
export const statText = (c: Shown): string =>
  c.files.length === 0
    ? "No changes."
    : [
        ...c.files.map((f) => `${f.path} | +${count(f.added)} -${count(f.deleted)}`),
        `${c.files.length} file(s) changed, +${c.files.reduce((a, f) => a + (f.added ?? 0), 0)} -${c.files.reduce((a, f) => a + (f.deleted ?? 0), 0)}`,
      ].join("\n")

/**
 * `diff`: the unified diff, or a line saying there is none (for a task without a worktree whose
 * files have no uncommitted change now, the files it touched).
 */
export const patchText = (c: Shown): string => {
  if ((c.worktree === undefined || c.worktree === null) && c.touched.length > 0 && c.patch === "") {
    return `Files the task changed (no uncommitted change of them now):\n${c.touched.join("\n")}\n`
  }
  return c.patch === "" ? "No changes.\n" : c.patch
}
