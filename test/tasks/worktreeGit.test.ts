import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { addWorktree, branchExists } from "../../src/git/repo.js"
import { applyTaskChanges } from "../../src/tasks/taskDiff.js"
import {
  KEEP_BRANCH,
  readWorktree,
  retireWorktree,
  startInWorktree,
  type WorktreeRecord,
  writeWorktree,
} from "../../src/tasks/worktree.js"
import { git } from "../support/git.js"

// `apply --commit`, `archive` and an interrupted `start --worktree` of worktree tasks, against
// real git in temporary directories (the task directory is written by hand).

const sh = git
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromiseExit(e)
const failure = (exit: Exit.Exit<unknown, { readonly message: string }>) =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error.message : "did not fail"

/** A repository, a worktree task's directory with its record, and the worktree. */
const setup = async () => {
  const base = mkdtempSync(join(tmpdir(), "ct-wtask-"))
  const repo = join(base, "repo")
  mkdirSync(repo)
  sh(repo, "init", "-q", "-b", "main")
  writeFileSync(join(repo, "f.txt"), "one\ntwo\nthree\nfour\nfive\n")
  writeFileSync(join(repo, "other.txt"), "other\n")
  sh(repo, "add", ".")
  sh(repo, "commit", "-qm", "first")
  const head = sh(repo, "rev-parse", "HEAD")
  const root = join(base, "store")
  const path = join(root, ".worktrees", "tok")
  mkdirSync(join(root, ".worktrees"), { recursive: true })
  await Effect.runPromise(addWorktree(repo, path, "codex-tasks/abc", head))
  const taskDir = join(root, "abc")
  mkdirSync(taskDir)
  const record: WorktreeRecord = {
    path,
    branch: "codex-tasks/abc",
    base: head,
    base_ref: "HEAD",
    repo,
    dir: repo,
  }
  await Effect.runPromise(writeWorktree(taskDir, record))
  return {
    base,
    repo,
    root,
    path,
    taskDir,
    head,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  }
}

describe("apply --commit", () => {
  it("is refused, changing nothing, when a file the task changes has the user's own edits", async () => {
    const { repo, path, taskDir, head, cleanup } = await setup()
    try {
      writeFileSync(join(path, "f.txt"), "ONE\ntwo\nthree\nfour\nfive\n")
      writeFileSync(join(path, "new.txt"), "new\n")
      // The user's own edit of the same file, in another hunk: it merges cleanly.
      writeFileSync(join(repo, "f.txt"), "one\ntwo\nthree\nfour\nFIVE (mine)\n")
      const exit = await run(applyTaskChanges(taskDir, "abc", "task title", true))
      assert.match(failure(exit), /uncommitted changes in f\.txt.*Nothing was changed/)
      assert.strictEqual(sh(repo, "rev-parse", "HEAD"), head)
      assert.strictEqual(
        readFileSync(join(repo, "f.txt"), "utf8"),
        "one\ntwo\nthree\nfour\nFIVE (mine)\n",
      )
      assert.isFalse(existsSync(join(repo, "new.txt")))
      // Without --commit the three-way apply keeps both.
      await Effect.runPromise(applyTaskChanges(taskDir, "abc", "task title", false))
      assert.strictEqual(
        readFileSync(join(repo, "f.txt"), "utf8"),
        "ONE\ntwo\nthree\nfour\nFIVE (mine)\n",
      )
    } finally {
      cleanup()
    }
  })

  it("commits only the task's files; what the user staged elsewhere stays staged", async () => {
    const { repo, path, taskDir, cleanup } = await setup()
    try {
      writeFileSync(join(path, "f.txt"), "ONE\ntwo\nthree\nfour\nfive\n")
      writeFileSync(join(path, "new.txt"), "new\n")
      writeFileSync(join(repo, "other.txt"), "staged by the user\n")
      sh(repo, "add", "other.txt")
      writeFileSync(join(repo, "mine.txt"), "untracked\n")
      const r = await Effect.runPromise(applyTaskChanges(taskDir, "abc", "task title", true))
      assert.isTrue(r.committed)
      assert.strictEqual(sh(repo, "log", "-1", "--format=%s"), "task title")
      assert.deepStrictEqual(sh(repo, "show", "--name-only", "--format=", "HEAD").split("\n"), [
        "f.txt",
        "new.txt",
      ])
      assert.strictEqual(sh(repo, "status", "--porcelain"), "M  other.txt\n?? mine.txt")
    } finally {
      cleanup()
    }
  })

  it("takes the task's file names literally (a file named `*.txt` is no glob)", async () => {
    const { repo, path, taskDir, cleanup } = await setup()
    try {
      writeFileSync(join(path, "*.txt"), "star\n")
      writeFileSync(join(repo, "other.txt"), "staged by the user\n")
      sh(repo, "add", "other.txt")
      const r = await Effect.runPromise(applyTaskChanges(taskDir, "abc", "task title", true))
      assert.isTrue(r.committed)
      assert.strictEqual(sh(repo, "show", "--name-only", "--format=", "HEAD"), "*.txt")
      assert.strictEqual(sh(repo, "status", "--porcelain"), "M  other.txt")
    } finally {
      cleanup()
    }
  })

  it("signs as the user configured; a failing signature says the files were applied, not committed", async () => {
    const { base, repo, path, taskDir, head, cleanup } = await setup()
    try {
      const gpg = join(base, "gpg.sh")
      writeFileSync(gpg, "#!/bin/sh\nexit 1\n", { mode: 0o755 })
      sh(repo, "config", "commit.gpgsign", "true")
      sh(repo, "config", "gpg.program", gpg)
      writeFileSync(join(path, "f.txt"), "ONE\ntwo\nthree\nfour\nfive\n")
      const exit = await run(applyTaskChanges(taskDir, "abc", "task title", true))
      assert.match(failure(exit), /applied to .* but not committed: .*gpg/)
      assert.strictEqual(sh(repo, "rev-parse", "HEAD"), head)
      assert.strictEqual(readFileSync(join(repo, "f.txt"), "utf8"), "ONE\ntwo\nthree\nfour\nfive\n")
    } finally {
      cleanup()
    }
  })
})

describe("archive of a worktree task", () => {
  it("keeps the worktree's ignored files in the task directory; the rest is committed to the branch", async () => {
    const { repo, path, taskDir, cleanup } = await setup()
    try {
      writeFileSync(join(path, ".gitignore"), "build/\n*.log\n")
      mkdirSync(join(path, "build", "deep"), { recursive: true })
      writeFileSync(join(path, "build", "deep", "out.bin"), "built\n")
      mkdirSync(join(path, "sub"))
      writeFileSync(join(path, "sub", "run.log"), "log\n")
      writeFileSync(join(path, "notes.txt"), "untracked\n")
      const r = await Effect.runPromise(retireWorktree(taskDir, "abc", KEEP_BRANCH))
      assert.isTrue(r?.committed)
      assert.isFalse(existsSync(path), "the worktree is removed")
      const kept = join(taskDir, "worktree-ignored")
      assert.strictEqual(readFileSync(join(kept, "build", "deep", "out.bin"), "utf8"), "built\n")
      assert.strictEqual(readFileSync(join(kept, "sub", "run.log"), "utf8"), "log\n")
      assert.strictEqual(sh(repo, "show", "codex-tasks/abc:notes.txt"), "untracked")
      assert.isDefined(readWorktree(taskDir)?.removed_at)
    } finally {
      cleanup()
    }
  })
})

describe("an interrupted start --worktree", () => {
  const okLaunch = (root: string, id: string) => (cwd: string) =>
    Effect.sync(() => ({ id, dir: createTask(root, cwd, id) }))

  // What a start's worker does once codex reported the thread: the task directory, with
  // `task.json` naming the working directory it was given (in the worktree).
  const createTask = (root: string, cwd: string, id = "0199-task") => {
    const taskDir = join(root, id)
    mkdirSync(taskDir, { recursive: true })
    writeFileSync(join(taskDir, "task.json"), JSON.stringify({ exec: { working_dir: cwd } }))
    return taskDir
  }

  it("leaves a task whose worktree archive finds and removes", async () => {
    const { base, repo, cleanup } = await setup()
    try {
      const root = join(base, "store2")
      let taskDir = ""
      const exit = await run(
        startInWorktree(root, repo, {}, (cwd) =>
          Effect.suspend(() => {
            taskDir = createTask(root, cwd)
            // The CLI is interrupted (Ctrl-C) before the worker's handshake reached it.
            return Effect.interrupt
          }),
        ),
      )
      assert.isTrue(Exit.isInterrupted(exit))
      const record = readWorktree(taskDir)
      assert.isDefined(record, "the task knows its worktree")
      assert.isTrue(existsSync(record?.path ?? ""))
      assert.isTrue(await Effect.runPromise(branchExists(repo, record?.branch ?? "")))
      await Effect.runPromise(
        retireWorktree(taskDir, "0199-task", { deleteBranch: true, force: true }),
      )
      assert.isFalse(existsSync(record?.path ?? ""), "archive removed the worktree")
      assert.isFalse(await Effect.runPromise(branchExists(repo, record?.branch ?? "")))
      assert.deepStrictEqual(readdirSync(join(root, ".worktrees")), [])
      assert.notInclude(sh(repo, "worktree", "list", "--porcelain"), record?.path ?? "")
    } finally {
      cleanup()
    }
  })

  it("that never got its task is swept by the next start once its starter is gone", async () => {
    const { base, repo, cleanup } = await setup()
    try {
      const root = join(base, "store2")
      const interrupted = await run(
        startInWorktree(root, repo, { branch: "mine" }, () => Effect.interrupt),
      )
      assert.isTrue(Exit.isInterrupted(interrupted))
      const [intent = ""] = readdirSync(join(root, ".worktrees")).filter((n) => n.endsWith(".json"))
      const file = join(root, ".worktrees", intent)
      const path = file.slice(0, -".json".length)
      assert.isTrue(existsSync(path))
      // Its starter still runs: the next start leaves it alone.
      await Effect.runPromise(startInWorktree(root, repo, {}, okLaunch(root, "0199aaaaaa")))
      assert.isTrue(existsSync(path))
      // Its starter is gone (same pid, another start time: a recycled pid).
      const record = JSON.parse(readFileSync(file, "utf8"))
      writeFileSync(
        file,
        JSON.stringify({ ...record, owner: { ...record.owner, start_time: "1" } }),
      )
      await Effect.runPromise(startInWorktree(root, repo, {}, okLaunch(root, "0199bbbbbb")))
      assert.isFalse(existsSync(path), "the orphaned worktree is removed")
      assert.isFalse(existsSync(file))
      assert.isFalse(await Effect.runPromise(branchExists(repo, "mine")))
      assert.notInclude(sh(repo, "worktree", "list", "--porcelain"), path)
      // The tasks that did start keep theirs.
      assert.strictEqual(readdirSync(join(root, ".worktrees")).length, 2)
    } finally {
      cleanup()
    }
  })

  it("a start that failed leaves no worktree, branch or record", async () => {
    const { base, repo, cleanup } = await setup()
    try {
      const root = join(base, "store2")
      const exit = await run(
        startInWorktree(root, repo, {}, () => Effect.fail({ _tag: "StartFailed", message: "no" })),
      )
      assert.match(failure(exit), /no/)
      assert.deepStrictEqual(readdirSync(join(root, ".worktrees")), [])
      assert.strictEqual(sh(repo, "branch", "--list", "codex-tasks/pending-*"), "")
    } finally {
      cleanup()
    }
  })

  it("a start that succeeded leaves the task's record and no intent", async () => {
    const { base, repo, cleanup } = await setup()
    try {
      const root = join(base, "store2")
      let taskDir = ""
      await Effect.runPromise(
        startInWorktree(root, repo, {}, (cwd) =>
          Effect.sync(() => {
            taskDir = createTask(root, cwd)
            return { id: "0199abcdef", dir: taskDir }
          }),
        ),
      )
      const record = readWorktree(taskDir)
      assert.strictEqual(record?.branch, "codex-tasks/0199abcd")
      assert.isTrue(existsSync(join(taskDir, "worktree.json")))
      assert.deepStrictEqual(readdirSync(join(root, ".worktrees")), [record?.path.split("/").pop()])
    } finally {
      cleanup()
    }
  })
})
