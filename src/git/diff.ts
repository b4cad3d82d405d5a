import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { WorktreeRefused } from "./repo.js"
import { BOOKKEEPING, FALLBACK_IDENTITY, git, gitRaw } from "./run.js"

/** One changed file with its line counts (`-` for binary files: counts are null). */
export interface FileStat {
  readonly path: string
  readonly added: number | null
  readonly deleted: number | null
}

const withTempIndex = <A, E, R>(use: (env: Record<string, string>) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "codex-tasks-index-"))),
    (dir) => use({ GIT_INDEX_FILE: join(dir, "index") }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

/**
 * The tree of `dir`'s working tree as it is now: tracked changes, deletions and untracked files
 * (ignored ones left out), written through a temporary index so the real index is untouched.
 */
export const worktreeTree = (dir: string) =>
  withTempIndex((env) =>
    Effect.gen(function* () {
      yield* git(["read-tree", "HEAD"], { cwd: dir, env })
      yield* git(["add", "-A", "--", "."], { cwd: dir, env })
      return (yield* git(["write-tree"], { cwd: dir, env })).trim()
    }),
  )

/**
 * The tree `patch` (as `diffText` writes it, binary hunks included) makes of commit `base`,
 * written through a temporary index; fails when it does not apply.
 */
export const patchedTree = (dir: string, base: string, patch: string) =>
  withTempIndex((env) =>
    Effect.gen(function* () {
      yield* git(["read-tree", base], { cwd: dir, env })
      if (patch !== "") {
        yield* git(["apply", "--cached", "-p1", "--whitespace=nowarn", "-"], {
          cwd: dir,
          env,
          input: patch,
        })
      }
      return (yield* git(["write-tree"], { cwd: dir, env })).trim()
    }),
  )

/** The tree of a commit or branch. */
export const treeOf = (dir: string, rev: string) =>
  Effect.map(git(["rev-parse", "--verify", `${rev}^{tree}`], { cwd: dir }), (s) => s.trim())

const pathspec = (paths: ReadonlyArray<string> | undefined) =>
  paths === undefined ? [] : ["--", ...paths]

// Plumbing (`diff-tree`) with everything spelled out, so no user setting reaches the text:
// `diff.noprefix`/`mnemonicPrefix`, `diff.external`/`GIT_EXTERNAL_DIFF`, `color.*`, textconv
// drivers (sops, git-crypt: a converted blob in a patch would be written converted) and rename
// or copy detection settings. `apply` applies exactly this text; `diff` shows the same.
const PLUMBING_DIFF = ["diff-tree", "-r", "--no-textconv", "--no-ext-diff"]

/**
 * The unified diff between two trees as `git apply` takes it: binary patches, `a/` and `b/`
 * prefixes, renames detected, blobs as stored (no textconv); coloured when asked.
 */
export const diffText = (
  dir: string,
  from: string,
  to: string,
  options: { readonly color?: boolean; readonly paths?: ReadonlyArray<string> } = {},
) =>
  git(
    [
      ...PLUMBING_DIFF,
      "-p",
      "--binary",
      "-M",
      "--src-prefix=a/",
      "--dst-prefix=b/",
      `--color=${options.color === true ? "always" : "never"}`,
      from,
      to,
      ...pathspec(options.paths),
    ],
    { cwd: dir },
  )

/** The files that differ between two trees, with added/deleted line counts. */
export const diffStat = (dir: string, from: string, to: string, paths?: ReadonlyArray<string>) =>
  Effect.map(
    git([...PLUMBING_DIFF, "--numstat", "-z", "--no-renames", from, to, ...pathspec(paths)], {
      cwd: dir,
    }),
    (out): ReadonlyArray<FileStat> =>
      out
        .split("\0")
        .filter((r) => r.length > 0)
        .map((row) => {
          const [added = "-", deleted = "-", ...rest] = row.split("\t")
          return {
            path: rest.join("\t"),
            added: added === "-" ? null : Number(added),
            deleted: deleted === "-" ? null : Number(deleted),
          }
        }),
  )

// A throwaway commit of `tree` on `parent` (for merge-tree, which merges commits).
const commitOf = (dir: string, tree: string, parent: string) =>
  Effect.map(
    git(
      [
        ...BOOKKEEPING,
        ...FALLBACK_IDENTITY,
        "commit-tree",
        "--no-gpg-sign",
        tree,
        "-p",
        parent,
        "-m",
        "codex-tasks apply",
      ],
      { cwd: dir },
    ),
    (s) => s.trim(),
  )

/** What `applyTree` did. */
export type ApplyOutcome =
  | { readonly _tag: "Applied"; readonly files: ReadonlyArray<string> }
  | { readonly _tag: "Nothing" }

/**
 * Brings the change `base` → `theirs` (trees or commits) into the working tree of `top`: a
 * three-way merge against the working tree as it is (uncommitted changes included), computed
 * without touching it; the result goes in with one `git apply`, which applies all or nothing. A
 * conflict refuses with the conflicting paths and leaves every file as it was. `check` sees the
 * files the apply would change before anything is written, and may refuse.
 */
export const applyTree = <E = never>(
  top: string,
  base: string,
  theirs: string,
  check: (files: ReadonlyArray<string>) => Effect.Effect<void, E> = () => Effect.void,
) =>
  Effect.gen(function* () {
    const baseTree = yield* treeOf(top, base)
    const theirsTree = yield* treeOf(top, theirs)
    if (baseTree === theirsTree) return { _tag: "Nothing" } satisfies ApplyOutcome
    const oursTree = yield* worktreeTree(top)
    const oursCommit = yield* commitOf(top, oursTree, base)
    const theirsCommit = yield* commitOf(top, theirsTree, base)
    const merged = yield* gitRaw(
      ["merge-tree", "--write-tree", "--name-only", "--no-messages", oursCommit, theirsCommit],
      { cwd: top },
    )
    const [tree = "", ...rest] = merged.stdout.split("\n")
    if (merged.code === 1) {
      const paths = [...new Set(rest.filter((l) => l.length > 0))]
      return yield* new WorktreeRefused({
        message: `The task's changes conflict with ${top} in: ${paths.join(", ")}. Nothing was changed.`,
      })
    }
    if (merged.code !== 0) {
      return yield* new WorktreeRefused({
        message: `git merge-tree failed: ${merged.stderr.trim()}`,
      })
    }
    const files = (yield* diffStat(top, oursTree, tree)).map((f) => f.path)
    if (files.length === 0) return { _tag: "Nothing" } satisfies ApplyOutcome
    yield* check(files)
    const patch = yield* diffText(top, oursTree, tree)
    const applied = yield* gitRaw(["apply", "-p1", "--whitespace=nowarn", "-"], {
      cwd: top,
      input: patch,
    })
    if (applied.code !== 0) {
      return yield* new WorktreeRefused({
        message: `The changes no longer apply to ${top} (did it change meanwhile?): ${applied.stderr.trim()}. Nothing was changed.`,
      })
    }
    return { _tag: "Applied", files } satisfies ApplyOutcome
  })
