import { existsSync } from "node:fs"
import { isAbsolute, relative } from "node:path"
import { Effect } from "effect"
import type { TaskId } from "../domain/taskId.js"
import type { DiffJson } from "../domain/wire.js"
import {
  applyTree,
  diffStat,
  diffText,
  type FileStat,
  patchedTree,
  treeOf,
  worktreeTree,
} from "../git/diff.js"
import { changedAmong, commitFiles, findRepo, refused, WorktreeRefused } from "../git/repo.js"
import { gitRaw } from "../git/run.js"
import { fileChangesOf } from "./logFiles.js"
import { readWorktree, type WorktreeRecord } from "./worktree.js"

/** What a task changed: against its base (worktree task) or the files its patches touched. */
export interface TaskChanges {
  readonly worktree: WorktreeRecord | undefined
  readonly files: ReadonlyArray<FileStat>
  /** The unified diff (empty when nothing changed or the directory is no repository). */
  readonly patch: string
  /** Files its `file_change` items touched (tasks without a worktree; absolute as logged). */
  readonly touched: ReadonlyArray<string>
}

/** `diff --json` (and MCP `task_diff`): docs/json-output.md "diff"; `stat` leaves the patch out. */
export const changesJson = (id: TaskId, c: TaskChanges, stat: boolean): DiffJson => ({
  id,
  worktree:
    c.worktree === undefined
      ? null
      : { path: c.worktree.path, branch: c.worktree.branch, base: c.worktree.base },
  files: c.files,
  touched: c.worktree === undefined ? c.touched : null,
  ...(stat ? {} : { patch: c.patch }),
})

/** The current tree of a worktree task: its worktree now, or its branch once archived. */
const treeOfTask = (r: WorktreeRecord) =>
  r.removed_at === undefined && existsSync(r.path) ? worktreeTree(r.path) : treeOf(r.repo, r.branch)

/** How a diff is computed: with its text (`patch`), and coloured (`color`). */
interface DiffOptions {
  readonly color: boolean
  readonly patch: boolean
}

/** What a worktree task changed: its tree (worktree, or branch once archived) against its base. */
export const worktreeChanges = (worktree: WorktreeRecord, options: DiffOptions) =>
  Effect.gen(function* () {
    const tree = yield* treeOfTask(worktree)
    const files = yield* diffStat(worktree.repo, worktree.base, tree)
    const patch = options.patch
      ? yield* diffText(worktree.repo, worktree.base, tree, { color: options.color })
      : ""
    return { worktree, files, patch, touched: [] } satisfies TaskChanges
  })

/** Computes what the task in `taskDir` changed; `color` colours the diff. */
export const taskChanges = (
  taskDir: string,
  logPath: string,
  workingDir: string | undefined,
  options: DiffOptions,
) =>
  Effect.gen(function* () {
    const worktree = readWorktree(taskDir)
    if (worktree !== undefined) return yield* worktreeChanges(worktree, options)
    const touched = fileChangesOf(logPath)
    const none = { worktree, files: [], patch: "", touched } satisfies TaskChanges
    if (touched.length === 0 || workingDir === undefined || !existsSync(workingDir)) return none
    const repo = yield* findRepo(workingDir, undefined).pipe(Effect.option)
    if (repo._tag === "None") return none
    const top = repo.value.top
    const paths = touched
      .map((p) => (isAbsolute(p) ? relative(top, p) : relative(top, `${workingDir}/${p}`)))
      .filter((p) => !p.startsWith(".."))
    if (paths.length === 0) return none
    const tree = yield* worktreeTree(top)
    const files = yield* diffStat(top, "HEAD", tree, paths)
    const patch = options.patch
      ? yield* diffText(top, "HEAD", tree, { color: options.color, paths })
      : ""
    return { worktree, files, patch, touched } satisfies TaskChanges
  }).pipe(Effect.mapError(refused))

/**
 * Applies a worktree task's changes to the directory it was started from; `commit` commits them
 * (only the task's files, and refused before anything changes when one of them has uncommitted
 * changes of the user's, which the commit would take along).
 */
export const applyTaskChanges = (
  taskDir: string,
  id: string,
  title: string | undefined,
  commit: boolean,
) =>
  Effect.gen(function* () {
    const r = readWorktree(taskDir)
    if (r === undefined) {
      return yield* new WorktreeRefused({
        message: `Task ${id} has no worktree (started without --worktree): its changes are already in ${"its working directory"}.`,
      })
    }
    const tree = yield* treeOfTask(r)
    const applied = yield* applyTreeTo(r.repo, r.base, tree, id, title, commit)
    return { ...applied, record: r }
  }).pipe(Effect.mapError(refused))

/** Applies tree `tree` (made from commit `base`) to the checkout `top`, committing with `commit`. */
const applyTreeTo = (
  top: string,
  base: string,
  tree: string,
  id: string,
  title: string | undefined,
  commit: boolean,
) =>
  Effect.gen(function* () {
    const outcome = yield* applyTree(top, base, tree, (files) =>
      commit ? refuseUserChanges(top, files) : Effect.void,
    )
    if (outcome._tag === "Nothing" || !commit) return { ...outcome, committed: false }
    const message = title ?? `codex-tasks: changes of ${id}`
    const committed = yield* commitFiles(top, message, outcome.files).pipe(
      Effect.mapError(
        (e) =>
          new WorktreeRefused({
            message: `The task's changes were applied to ${top} but not committed: ${e.message}`,
          }),
      ),
    )
    return { ...outcome, committed }
  })

/**
 * Applies a worktree task's changes computed on another machine (`patch` against commit `base`,
 * as `diff` shows them) to the checkout holding `dir`, as `applyTaskChanges` does locally: three
 * ways, refused with the conflicting paths, never half-applied. The checkout must have `base`.
 */
export const applyPatchTo = (
  dir: string,
  change: {
    readonly id: string
    readonly title: string | undefined
    /** The host the task runs on (named when it has no worktree). */
    readonly host: string
    /** The commit the task's worktree started from; undefined for a task without a worktree. */
    readonly base: string | undefined
    readonly patch: string
  },
  commit: boolean,
) =>
  Effect.gen(function* () {
    if (change.base === undefined) {
      return yield* new WorktreeRefused({
        message: `Task ${change.id} has no worktree (started without --worktree): its changes are already in its working directory (on host ${change.host}).`,
      })
    }
    const base = change.base
    const top = yield* gitRaw(["rev-parse", "--show-toplevel"], { cwd: dir })
    if (top.code !== 0) {
      return yield* new WorktreeRefused({
        message: `apply needs a git checkout to apply to, and ${dir} is not in one.`,
      })
    }
    const repo = top.stdout.trim()
    const known = yield* gitRaw(["cat-file", "-e", `${base}^{commit}`], { cwd: repo })
    if (known.code !== 0) {
      return yield* new WorktreeRefused({
        message: `The task started from commit ${base}, which ${repo} does not have: fetch it first (e.g. git fetch origin). Nothing was changed.`,
      })
    }
    const tree = yield* patchedTree(repo, change.base, change.patch)
    const applied = yield* applyTreeTo(repo, change.base, tree, change.id, change.title, commit)
    return { ...applied, repo }
  }).pipe(Effect.mapError(refused))

// `apply --commit` commits whole files: one the user has changed too would carry their hunks.
const refuseUserChanges = (top: string, files: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const mine = yield* changedAmong(top, files)
    if (mine.length === 0) return
    return yield* new WorktreeRefused({
      message: `Not applied: ${top} has uncommitted changes in ${mine.join(", ")}, which the task also changes; --commit would commit them too. Commit or stash them first, or apply without --commit. Nothing was changed.`,
    })
  })
