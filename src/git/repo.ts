import { Data, Effect } from "effect"
import { BOOKKEEPING, FALLBACK_IDENTITY, type GitFailed, git, gitRaw } from "./run.js"

/** A worktree operation was refused (outside a repository, no commit yet, branch exists, …). */
export class WorktreeRefused extends Data.TaggedError("WorktreeRefused")<{
  readonly message: string
}> {}

/** The repository a directory belongs to. */
export interface RepoInfo {
  /** The top of its working tree (`git rev-parse --show-toplevel`). */
  readonly top: string
  /** The commit `base` names. */
  readonly baseCommit: string
}

const ok = (args: ReadonlyArray<string>, cwd: string) =>
  Effect.map(gitRaw(args, { cwd }), (r) => r.code === 0)

/** The repository containing `dir` and the commit `base` (default `HEAD`) names there. */
export const findRepo = (dir: string, base: string | undefined) =>
  Effect.gen(function* () {
    const top = yield* gitRaw(["rev-parse", "--show-toplevel"], { cwd: dir })
    if (top.code !== 0) {
      return yield* new WorktreeRefused({
        message: `--worktree needs a git repository, and ${dir} is not in one.`,
      })
    }
    const topDir = top.stdout.trim()
    if (!(yield* ok(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], topDir))) {
      return yield* new WorktreeRefused({
        message: `--worktree needs a commit to start from, and the repository ${topDir} has none yet.`,
      })
    }
    const ref = base ?? "HEAD"
    if (ref.startsWith("-"))
      return yield* new WorktreeRefused({ message: `Invalid --base: ${ref}` })
    const commit = yield* gitRaw(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
      cwd: topDir,
    })
    if (commit.code !== 0) {
      return yield* new WorktreeRefused({
        message: `--base ${ref} names no commit in ${topDir}.`,
      })
    }
    return { top: topDir, baseCommit: commit.stdout.trim() } satisfies RepoInfo
  })

/** Refuses a branch name git would not accept or that already exists in the repository. */
export const checkNewBranch = (top: string, branch: string) =>
  Effect.gen(function* () {
    if (branch.startsWith("-") || !(yield* ok(["check-ref-format", "--branch", branch], top))) {
      return yield* new WorktreeRefused({ message: `Invalid branch name: ${branch}` })
    }
    if (yield* branchExists(top, branch)) {
      return yield* new WorktreeRefused({
        message: `The branch ${branch} already exists in ${top}; choose another with --branch.`,
      })
    }
  })

/** Whether `refs/heads/<branch>` exists. */
export const branchExists = (top: string, branch: string) =>
  ok(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], top)

/** Creates a worktree at `path` on the new branch `branch`, checked out at `commit`. */
export const addWorktree = (top: string, path: string, branch: string, commit: string) =>
  git(["worktree", "add", "--quiet", "-b", branch, "--", path, commit], { cwd: top }).pipe(
    Effect.mapError(
      (e) => new WorktreeRefused({ message: `Cannot create the worktree: ${e.message}` }),
    ),
    Effect.asVoid,
  )

/** Renames a branch (also when a worktree has it checked out). */
export const renameBranch = (top: string, from: string, to: string) =>
  git(["branch", "-m", "--", from, to], { cwd: top }).pipe(Effect.asVoid)

// A repository without user.name/user.email still gets our commits.
const identity = (cwd: string) =>
  Effect.map(
    Effect.all([ok(["config", "user.name"], cwd), ok(["config", "user.email"], cwd)]),
    ([name, email]) => (name && email ? [] : FALLBACK_IDENTITY),
  )

/**
 * Bookkeeping: commits everything in the working tree of `dir` (new files too) for the tool
 * itself, unsigned and without hooks (`BOOKKEEPING`); false if nothing changed.
 */
export const commitAll = (dir: string, message: string) =>
  Effect.gen(function* () {
    yield* git(["add", "-A", "--", "."], { cwd: dir })
    const staged = yield* gitRaw(["diff", "--cached", "--quiet", "--", "."], { cwd: dir })
    if (staged.code === 0) return false
    const who = yield* identity(dir)
    yield* git(
      [...BOOKKEEPING, ...who, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message],
      { cwd: dir },
    )
    return true
  })

/**
 * The user's commit (`apply --commit`): commits exactly `paths` as they are in the working tree
 * (`git commit --only`: whatever else is staged stays staged, uncommitted), signed as the user
 * configured; pre-commit and commit-msg hooks are skipped. False if nothing changed.
 */
export const commitFiles = (dir: string, message: string, paths: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (paths.length === 0) return false
    yield* git(["add", "-A", "--", ...paths], { cwd: dir })
    const staged = yield* gitRaw(["diff", "--cached", "--quiet", "--", ...paths], { cwd: dir })
    if (staged.code === 0) return false
    const who = yield* identity(dir)
    yield* git(
      [...who, "commit", "--quiet", "--no-verify", "--only", "-m", message, "--", ...paths],
      {
        cwd: dir,
      },
    )
    return true
  })

/**
 * The paths among `paths` that have uncommitted changes in the checkout `top` (staged,
 * unstaged or untracked), from `git status --porcelain` (a format that ignores user settings).
 */
export const changedAmong = (top: string, paths: ReadonlyArray<string>) =>
  Effect.map(
    paths.length === 0
      ? Effect.succeed("")
      : git(
          [
            "--no-optional-locks",
            "status",
            "--porcelain",
            "-z",
            "--no-renames",
            "--untracked-files=all",
            "--",
            ...paths,
          ],
          { cwd: top },
        ),
    (out) =>
      out
        .split("\0")
        .filter((e) => e.length > 3)
        .map((e) => e.slice(3)),
  )

/** Removes the worktree at `path` (its branch stays). */
export const removeWorktree = (top: string, path: string) =>
  Effect.gen(function* () {
    yield* git(["worktree", "remove", "--force", "--", path], { cwd: top }).pipe(
      Effect.catchAll(() => git(["worktree", "prune"], { cwd: top })),
    )
  })

/** Deletes `branch`: only when merged into the repository's HEAD unless `force`. */
export const deleteBranch = (top: string, branch: string, force: boolean) =>
  Effect.gen(function* () {
    const r = yield* gitRaw(["branch", force ? "-D" : "-d", "--", branch], { cwd: top })
    if (r.code === 0) return
    return yield* new WorktreeRefused({
      message: /not fully merged/.test(r.stderr)
        ? `The branch ${branch} is not merged; keep it, or delete it with --force.`
        : `Cannot delete the branch ${branch}: ${r.stderr.trim()}`,
    })
  })

/** `GitFailed` as a refusal with its message (for callers that report either the same way). */
export const refused = (e: GitFailed | WorktreeRefused) =>
  e._tag === "WorktreeRefused" ? e : new WorktreeRefused({ message: e.message })
