import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { dirname, join, relative, resolve as resolvePath } from "node:path"
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
  WorktreeRefused,
} from "../git/repo.js"
import { git } from "../git/run.js"
import { ProcessIdentity } from "../processes/identity.js"
import { currentIdentity, isSameProcessAlive, someProcessIn } from "../processes/procfs.js"
import { ensurePrivateDir, writeFileAtomic } from "../store/atomic.js"
import { TASK_JSON } from "../store/layout.js"

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

const readRecord = (file: string): WorktreeRecord | undefined => {
  try {
    const r = decode(readFileSync(file, "utf8"))
    return r._tag === "Some" ? r.value : undefined
  } catch {
    return undefined
  }
}

/**
 * The intent record of the worktree at `path` (`<root>/.worktrees/<token>.json`): the record
 * `start --worktree` writes before it creates the worktree, removed once the task has its own.
 */
export const intentPath = (path: string) => `${path}.json`

const UNDER_WORKTREES = /^(.*)\/\.worktrees\/([^/]+)(?:\/|$)/

// A task whose start was interrupted between creating the worktree and writing the task's record
// (Ctrl-C while codex started: the detached worker carries on) still works in that worktree:
// its `task.json` names a directory in it, and the intent record next to it says the rest.
const adoptedIntent = (taskDir: string): WorktreeRecord | undefined => {
  let workingDir: unknown
  try {
    const meta = JSON.parse(readFileSync(join(taskDir, TASK_JSON), "utf8")) as {
      exec?: { working_dir?: unknown }
      working_dir?: unknown
    }
    workingDir = meta.exec?.working_dir ?? meta.working_dir
  } catch {
    return undefined
  }
  if (typeof workingDir !== "string") return undefined
  const m = UNDER_WORKTREES.exec(workingDir)
  if (m === null) return undefined
  const path = `${m[1]}/.worktrees/${m[2]}`
  const intent = readRecord(intentPath(path))
  return intent?.path === path ? intent : undefined
}

/**
 * The worktree record of the task in `taskDir`, if it is a worktree task: `worktree.json`, or
 * the intent record of an interrupted start whose task works in that worktree.
 */
export const readWorktree = (taskDir: string): WorktreeRecord | undefined =>
  readRecord(join(taskDir, WORKTREE_FILE)) ?? adoptedIntent(taskDir)

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
 * to the default branch once the id is known. Its record is written first as an intent
 * (`intentPath`), so a start interrupted at any point leaves nothing no command can find; the
 * task's own `worktree.json` follows as soon as the task exists. A start that failed (the worker
 * answered, or never started) removes worktree, branch and intent; an interrupted one leaves
 * them to the task (its worker is detached and may carry on) or to `sweepWorktreeIntents`.
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
    const parent = join(root, ".worktrees")
    yield* ensurePrivateDir(parent)
    yield* sweepWorktreeIntents(root)
    yield* checkNewBranch(repo.top, branch)
    const path = join(parent, token)
    const record: WorktreeRecord = {
      path,
      branch,
      base: repo.baseCommit,
      base_ref: request.base ?? "HEAD",
      repo: repo.top,
      dir,
    }
    yield* writeRecordFile(intentPath(path), {
      ...record,
      owner: Schema.encodeSync(ProcessIdentity)(currentIdentity()),
    })
    const dropIntent = Effect.sync(() => rmSync(intentPath(path), { force: true }))
    yield* addWorktree(repo.top, path, branch, repo.baseCommit).pipe(
      Effect.tapError(() => dropIntent),
    )
    const undo = removeWorktree(repo.top, path).pipe(
      Effect.zipRight(deleteBranch(repo.top, branch, true)),
      Effect.ignore,
      Effect.zipRight(dropIntent),
    )
    // The same place inside the worktree as the working directory inside its repository.
    const cwd = join(path, relative(repo.top, dir))
    // Failures only: an interrupted launch may have a worker that goes on (it is detached).
    const started = yield* launch(cwd).pipe(Effect.tapError(() => undo))
    yield* writeWorktree(started.dir, record)
    if (request.branch === undefined) {
      const wanted = defaultBranch(started.id)
      if (!(yield* branchExists(repo.top, wanted))) {
        yield* renameBranch(repo.top, branch, wanted)
        yield* writeWorktree(started.dir, { ...record, branch: wanted })
      }
    }
    yield* dropIntent
    return started
  }).pipe(Effect.mapError((e) => (isGitError(e) ? refused(e) : e)))

const writeRecordFile = (file: string, record: WorktreeRecord & { readonly owner?: unknown }) =>
  writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 })

const WorktreeIntent = Schema.Struct({
  ...WorktreeRecord.fields,
  /** The process that was starting the task (the CLI, or the MCP server). */
  owner: Schema.optional(ProcessIdentity),
})
const decodeIntent = Schema.decodeUnknownOption(Schema.parseJson(WorktreeIntent))

// Whether an active task works in the worktree at `path` (its `task.json` names a directory
// there): it adopts the intent, which `archive` then retires.
const taskWorksIn = (root: string, path: string) => {
  let names: Array<string>
  try {
    names = readdirSync(root)
  } catch {
    return true
  }
  return names
    .filter((n) => !n.startsWith("."))
    .some((n) => adoptedIntent(join(root, n))?.path === path)
}

/**
 * Removes what starts interrupted before their task existed left behind: for each intent record
 * in `<root>/.worktrees/` whose owner is gone, in whose worktree no process works (a worker
 * still starting) and which no task adopted, the worktree, its branch (only while it has no
 * commit of its own) and the record. Called by every `start --worktree`; returns the count.
 */
export const sweepWorktreeIntents = (root: string) =>
  Effect.gen(function* () {
    const parent = join(root, ".worktrees")
    let names: Array<string>
    try {
      names = readdirSync(parent).filter((n) => n.endsWith(".json"))
    } catch {
      return 0
    }
    let swept = 0
    for (const name of names) {
      const file = join(parent, name)
      let text: string
      try {
        text = readFileSync(file, "utf8")
      } catch {
        continue
      }
      const found = decodeIntent(text)
      if (found._tag === "None") continue
      const intent = found.value
      if (intentPath(intent.path) !== file) continue
      if (intent.owner === undefined || isSameProcessAlive(intent.owner)) continue
      if (someProcessIn(intent.path) || taskWorksIn(root, intent.path)) continue
      yield* removeWorktree(intent.repo, intent.path).pipe(Effect.ignore)
      const tip = yield* git(["rev-parse", "--verify", "--quiet", `refs/heads/${intent.branch}`], {
        cwd: intent.repo,
      }).pipe(Effect.orElseSucceed(() => ""))
      if (tip.trim() === intent.base) {
        yield* deleteBranch(intent.repo, intent.branch, true).pipe(Effect.ignore)
      }
      rmSync(file, { force: true })
      swept += 1
    }
    return swept
  })

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

/** Where `archive` keeps a worktree's ignored files: in the task directory (it moves along). */
export const KEPT_IGNORED_DIR = "worktree-ignored"

// Ignored files (build outputs, `.env`, dependencies) are in no commit, and `git worktree remove`
// deletes them: they move into the task directory first (the same file system as the store's
// `.worktrees/`: renames). Fully ignored directories move whole.
const keepIgnored = (worktree: string, taskDir: string) =>
  Effect.gen(function* () {
    const listed = yield* git(
      ["ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
      { cwd: worktree },
    )
    const entries = listed
      .split("\0")
      .filter((e) => e.length > 0)
      .map((e) => e.replace(/\/$/, ""))
      .sort()
    const moved: Array<string> = []
    for (const entry of entries) {
      // git lists a directory holding only ignored files, and then those files again.
      if (moved.some((m) => entry.startsWith(`${m}/`))) continue
      moved.push(entry)
      const to = join(taskDir, KEPT_IGNORED_DIR, entry)
      yield* Effect.try({
        try: () => {
          mkdirSync(dirname(to), { recursive: true, mode: 0o700 })
          renameSync(join(worktree, entry), to)
        },
        catch: (e) =>
          new WorktreeRefused({
            message: `Cannot keep the ignored file ${entry} of the worktree ${worktree} (${e instanceof Error ? e.message : String(e)}); the worktree was not removed.`,
          }),
      })
    }
    return moved.length
  })

/**
 * Before `archive` moves a worktree task: commits what is uncommitted in the worktree to its
 * branch ("codex-tasks: uncommitted work of <id>"), moves its ignored files into the task
 * directory (`worktree-ignored/`), removes the worktree directory and records that; the branch
 * stays unless `deleteBranch` (merged, or `force`).
 */
export const retireWorktree = (taskDir: string, id: string, options: BranchPolicy) =>
  Effect.gen(function* () {
    const record = readWorktree(taskDir)
    if (record === undefined) return undefined
    let committed = false
    let keptIgnored = 0
    if (record.removed_at === undefined) {
      if (existsSync(record.path)) {
        committed = yield* commitAll(record.path, `codex-tasks: uncommitted work of ${id}`)
        keptIgnored = yield* keepIgnored(record.path, taskDir)
        yield* removeWorktree(record.repo, record.path)
      }
      yield* writeWorktree(taskDir, { ...record, removed_at: new Date().toISOString() })
    }
    rmSync(intentPath(record.path), { force: true })
    let branchDeleted = false
    if (options.deleteBranch && (yield* branchExists(record.repo, record.branch))) {
      yield* deleteBranch(record.repo, record.branch, options.force)
      branchDeleted = true
    }
    return { branch: record.branch, committed, keptIgnored, branchDeleted }
  }).pipe(Effect.mapError((e) => (isGitError(e) ? refused(e) : e)))
