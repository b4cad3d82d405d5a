import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { join, relative, resolve as resolvePath } from "node:path"
import { Effect, Schema } from "effect"
import {
  addWorktree,
  branchExists,
  checkNewBranch,
  commitAll,
  deleteBranch,
  findRepo,
  refused,
  removeWorktree,
  renameBranch,
} from "../git/repo.js"
import { writeFileAtomic } from "../store/atomic.js"

/** `worktree.json` in a worktree task's directory (written once the task exists). */
export const WorktreeRecord = Schema.Struct({
  /** The worktree directory (under `<store>/.worktrees/`). */
  path: Schema.String,
  branch: Schema.String,
  /** The commit the branch started from, and the ref the user named for it. */
  base: Schema.String,
  base_ref: Schema.String,
  /** The top of the original repository, and the working directory the task was started from. */
  repo: Schema.String,
  dir: Schema.String,
  /** Set by `archive` once the worktree directory is gone (the branch stays). */
  removed_at: Schema.optional(Schema.String),
})
/** A worktree task's record. */
export type WorktreeRecord = typeof WorktreeRecord.Type

/** The file name of the record in the task directory. */
export const WORKTREE_FILE = "worktree.json"

/** What `start --worktree` asks for. */
export interface WorktreeRequest {
  readonly base?: string | undefined
  readonly branch?: string | undefined
}

const decode = Schema.decodeUnknownOption(Schema.parseJson(WorktreeRecord))

/** The worktree record of the task in `taskDir`, if it is a worktree task. */
export const readWorktree = (taskDir: string): WorktreeRecord | undefined => {
  try {
    const r = decode(readFileSync(join(taskDir, WORKTREE_FILE), "utf8"))
    return r._tag === "Some" ? r.value : undefined
  } catch {
    return undefined
  }
}

/** Writes the record into the task directory. */
export const writeWorktree = (taskDir: string, record: WorktreeRecord) =>
  writeFileAtomic(join(taskDir, WORKTREE_FILE), `${JSON.stringify(record, null, 2)}\n`, {
    mode: 0o600,
  })

/** The default branch of a task: `codex-tasks/<first 8 of the id>`. */
export const defaultBranch = (id: string) => `codex-tasks/${id.slice(0, 8)}`

/**
 * Runs `launch` (a start) in a new worktree of the repository containing `workingDir`. The id is
 * known only after codex reported its thread, and codex's directory must not move while it runs:
 * the worktree is made at `<root>/.worktrees/<random>/` on a temporary branch, which is renamed
 * to the default branch once the id is known. A failed start removes worktree and branch.
 */
export const startInWorktree = <E, R>(
  root: string,
  workingDir: string,
  request: WorktreeRequest,
  launch: (dir: string) => Effect.Effect<{ readonly id: string; readonly dir: string }, E, R>,
) =>
  Effect.gen(function* () {
    const dir = resolvePath(workingDir)
    const repo = yield* findRepo(dir, request.base)
    const token = randomBytes(6).toString("hex")
    const branch = request.branch ?? `codex-tasks/pending-${token}`
    yield* checkNewBranch(repo.top, branch)
    const parent = join(root, ".worktrees")
    mkdirSync(parent, { recursive: true, mode: 0o700 })
    const path = join(parent, token)
    yield* addWorktree(repo.top, path, branch, repo.baseCommit)
    const undo = removeWorktree(repo.top, path).pipe(
      Effect.zipRight(deleteBranch(repo.top, branch, true)),
      Effect.ignore,
    )
    // The same place inside the worktree as the working directory inside its repository.
    const cwd = join(path, relative(repo.top, dir))
    const started = yield* launch(cwd).pipe(Effect.tapErrorCause(() => undo))
    let finalBranch = branch
    if (request.branch === undefined) {
      const wanted = defaultBranch(started.id)
      if (!(yield* branchExists(repo.top, wanted))) {
        yield* renameBranch(repo.top, branch, wanted)
        finalBranch = wanted
      }
    }
    yield* writeWorktree(started.dir, {
      path,
      branch: finalBranch,
      base: repo.baseCommit,
      base_ref: request.base ?? "HEAD",
      repo: repo.top,
      dir,
    }).pipe(Effect.orDie)
    return started
  }).pipe(Effect.mapError((e) => (isGitError(e) ? refused(e) : e)))

const isGitError = (e: unknown): e is Parameters<typeof refused>[0] =>
  typeof e === "object" &&
  e !== null &&
  "_tag" in e &&
  (e._tag === "GitFailed" || e._tag === "WorktreeRefused")

/** What archiving does with a worktree task's branch: kept, unless asked (merged, or `force`). */
export interface BranchPolicy {
  readonly deleteBranch: boolean
  readonly force: boolean
}

/** The default: the branch stays. */
export const KEEP_BRANCH: BranchPolicy = { deleteBranch: false, force: false }

/**
 * Before `archive` moves a worktree task: commits what is uncommitted in the worktree to its
 * branch ("codex-tasks: uncommitted work of <id>"), removes the worktree directory and records
 * that; the branch stays unless `deleteBranch` (merged, or `force`).
 */
export const retireWorktree = (taskDir: string, id: string, options: BranchPolicy) =>
  Effect.gen(function* () {
    const record = readWorktree(taskDir)
    if (record === undefined) return undefined
    let committed = false
    if (record.removed_at === undefined) {
      if (existsSync(record.path)) {
        committed = yield* commitAll(record.path, `codex-tasks: uncommitted work of ${id}`)
        yield* removeWorktree(record.repo, record.path)
      }
      yield* writeWorktree(taskDir, { ...record, removed_at: new Date().toISOString() }).pipe(
        Effect.orDie,
      )
    }
    let branchDeleted = false
    if (options.deleteBranch && (yield* branchExists(record.repo, record.branch))) {
      yield* deleteBranch(record.repo, record.branch, options.force)
      branchDeleted = true
    }
    return { branch: record.branch, committed, branchDeleted }
  }).pipe(Effect.mapError(refused))
