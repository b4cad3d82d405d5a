import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { applyTree, diffStat, diffText, worktreeTree } from "../../src/git/diff.js"
import {
  addWorktree,
  branchExists,
  checkNewBranch,
  commitAll,
  deleteBranch,
  findRepo,
  removeWorktree,
  renameBranch,
} from "../../src/git/repo.js"
import { git } from "../support/git.js"

// The git functions behind worktree tasks, against real git in temporary directories.

const sh = git

const makeRepo = () => {
  const base = mkdtempSync(join(tmpdir(), "ct-git-"))
  const repo = join(base, "repo")
  mkdirSync(repo)
  sh(repo, "init", "-q", "-b", "main")
  writeFileSync(join(repo, "f.txt"), "one\ntwo\nthree\n")
  sh(repo, "add", ".")
  sh(repo, "commit", "-qm", "first")
  return { base, repo, cleanup: () => rmSync(base, { recursive: true, force: true }) }
}

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromiseExit(e)
const failure = (exit: Exit.Exit<unknown, { readonly message: string }>) =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error.message : "did not fail"

describe("findRepo", () => {
  it("refuses a directory outside any repository, and a repository without a commit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ct-norepo-"))
    try {
      assert.match(failure(await run(findRepo(dir, undefined))), /is not in one/)
      sh(dir, "init", "-q")
      assert.match(failure(await run(findRepo(dir, undefined))), /has none yet/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("finds the top from a subdirectory and resolves --base", async () => {
    const { repo, cleanup } = makeRepo()
    try {
      mkdirSync(join(repo, "sub"))
      const found = await Effect.runPromise(findRepo(join(repo, "sub"), undefined))
      assert.strictEqual(found.top, repo)
      assert.strictEqual(found.baseCommit, sh(repo, "rev-parse", "HEAD"))
      assert.match(failure(await run(findRepo(repo, "nope"))), /names no commit/)
    } finally {
      cleanup()
    }
  })
})

describe("worktrees", () => {
  it("a worktree's changes (committed, uncommitted, untracked) diff against the base and apply", async () => {
    const { base, repo, cleanup } = makeRepo()
    try {
      const head = sh(repo, "rev-parse", "HEAD")
      const wt = join(base, "wt")
      await Effect.runPromise(addWorktree(repo, wt, "codex-tasks/tmp", head))
      assert.match(failure(await run(checkNewBranch(repo, "codex-tasks/tmp"))), /already exists/)
      await Effect.runPromise(renameBranch(repo, "codex-tasks/tmp", "codex-tasks/abc"))
      assert.strictEqual(sh(wt, "branch", "--show-current"), "codex-tasks/abc")
      writeFileSync(join(wt, "committed.txt"), "c\n")
      sh(wt, "add", ".")
      sh(wt, "commit", "-qm", "c")
      writeFileSync(join(wt, "f.txt"), "one\nTWO\nthree\n")
      writeFileSync(join(wt, "new.txt"), "untracked\n")
      const tree = await Effect.runPromise(worktreeTree(wt))
      const stat = await Effect.runPromise(diffStat(wt, head, tree))
      assert.deepStrictEqual(
        stat.map((s) => `${s.path} +${s.added} -${s.deleted}`),
        ["committed.txt +1 -0", "f.txt +1 -1", "new.txt +1 -0"],
      )
      assert.include(await Effect.runPromise(diffText(wt, head, tree)), "+TWO")
      // The worktree's own index is untouched: new.txt is still untracked.
      assert.include(sh(wt, "status", "--porcelain"), "?? new.txt")
      // The original checkout never saw it.
      assert.isFalse(existsSync(join(repo, "new.txt")))
      const applied = await Effect.runPromise(applyTree(repo, head, tree))
      assert.deepStrictEqual(applied, {
        _tag: "Applied",
        files: ["committed.txt", "f.txt", "new.txt"],
      })
      assert.strictEqual(readFileSync(join(repo, "f.txt"), "utf8"), "one\nTWO\nthree\n")
    } finally {
      cleanup()
    }
  })

  it("a conflicting apply names the paths and changes nothing", async () => {
    const { base, repo, cleanup } = makeRepo()
    try {
      const head = sh(repo, "rev-parse", "HEAD")
      const wt = join(base, "wt")
      await Effect.runPromise(addWorktree(repo, wt, "b", head))
      writeFileSync(join(wt, "f.txt"), "one\nmine\nthree\n")
      writeFileSync(join(wt, "other.txt"), "x\n")
      writeFileSync(join(repo, "f.txt"), "one\nyours\nthree\n")
      const tree = await Effect.runPromise(worktreeTree(wt))
      const message = failure(await run(applyTree(repo, head, tree)))
      assert.match(message, /conflict .* in: f\.txt\. Nothing was changed/)
      assert.strictEqual(readFileSync(join(repo, "f.txt"), "utf8"), "one\nyours\nthree\n")
      assert.isFalse(existsSync(join(repo, "other.txt")))
      assert.strictEqual(sh(repo, "status", "--porcelain"), "M f.txt")
    } finally {
      cleanup()
    }
  })

  it("commitAll keeps uncommitted work on the branch; a branch is deleted only when merged or forced", async () => {
    const { base, repo, cleanup } = makeRepo()
    try {
      const head = sh(repo, "rev-parse", "HEAD")
      const wt = join(base, "wt")
      await Effect.runPromise(addWorktree(repo, wt, "work", head))
      writeFileSync(join(wt, "new.txt"), "kept\n")
      assert.isTrue(await Effect.runPromise(commitAll(wt, "codex-tasks: uncommitted work of X")))
      assert.isFalse(await Effect.runPromise(commitAll(wt, "again")))
      await Effect.runPromise(removeWorktree(repo, wt))
      assert.isFalse(existsSync(wt))
      assert.strictEqual(sh(repo, "show", "work:new.txt"), "kept")
      assert.strictEqual(
        sh(repo, "log", "-1", "--format=%s", "work"),
        "codex-tasks: uncommitted work of X",
      )
      assert.match(failure(await run(deleteBranch(repo, "work", false))), /not merged/)
      assert.isTrue(await Effect.runPromise(branchExists(repo, "work")))
      await Effect.runPromise(deleteBranch(repo, "work", true))
      assert.isFalse(await Effect.runPromise(branchExists(repo, "work")))
    } finally {
      cleanup()
    }
  })
})

// The user's own git configuration must not change what `diff` shows or what `apply` writes,
// and must not stop the commits this tool makes for itself.
describe("user git configuration", () => {
  const script = (dir: string, name: string, body: string) => {
    const path = join(dir, name)
    writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    return path
  }

  // A repository whose every diff-related setting works against a patch-based apply.
  const hostileRepo = () => {
    const r = makeRepo()
    const rot = script(r.base, "rot.sh", `tr 'a-zA-Z' 'n-za-mN-ZA-M' < "$1"`)
    const ext = script(r.base, "ext.sh", "echo EXTERNAL DIFF")
    writeFileSync(join(r.repo, ".gitattributes"), "*.secret diff=rot\n")
    writeFileSync(join(r.repo, "old.secret"), "alpha\nbeta\ngamma\n")
    sh(r.repo, "add", ".")
    sh(r.repo, "commit", "-qm", "secrets")
    for (const [key, value] of [
      ["diff.rot.textconv", rot],
      ["diff.noprefix", "true"],
      ["diff.mnemonicPrefix", "true"],
      ["diff.external", ext],
      ["color.ui", "always"],
      ["color.diff", "always"],
      ["core.quotepath", "true"],
      ["diff.renames", "copies"],
    ] as const)
      sh(r.repo, "config", key, value)
    return r
  }

  it("diff and apply ignore textconv, noprefix, mnemonic prefixes, external diff and colour", async () => {
    const { base, repo, cleanup } = hostileRepo()
    try {
      const head = sh(repo, "rev-parse", "HEAD")
      const wt = join(base, "wt")
      await Effect.runPromise(addWorktree(repo, wt, "task", head))
      mkdirSync(join(wt, "sub"))
      writeFileSync(join(wt, "sub", "new.txt"), "in sub\n")
      writeFileSync(join(wt, "new.secret"), "hello\n")
      writeFileSync(join(wt, "old.secret"), "alpha\nBETA\ngamma\n")
      writeFileSync(join(wt, "é.txt"), "accent\n")
      const tree = await Effect.runPromise(worktreeTree(wt))
      const applied = await Effect.runPromise(applyTree(repo, head, tree))
      assert.deepStrictEqual(applied, {
        _tag: "Applied",
        files: ["new.secret", "old.secret", "sub/new.txt", "é.txt"],
      })
      assert.strictEqual(readFileSync(join(repo, "new.secret"), "utf8"), "hello\n")
      assert.strictEqual(readFileSync(join(repo, "old.secret"), "utf8"), "alpha\nBETA\ngamma\n")
      assert.strictEqual(readFileSync(join(repo, "sub", "new.txt"), "utf8"), "in sub\n")
      assert.isFalse(existsSync(join(repo, "new.txt")), "not stripped to the wrong path")
      assert.strictEqual(readFileSync(join(repo, "é.txt"), "utf8"), "accent\n")
      const patch = await Effect.runPromise(diffText(repo, head, tree))
      assert.include(patch, "--- a/old.secret\n+++ b/old.secret")
      assert.include(patch, "+hello")
      assert.include(patch, "+BETA")
      assert.notInclude(patch, "uryyb")
      assert.notInclude(patch, "EXTERNAL")
      assert.notInclude(patch, "\u001b[")
      const stat = await Effect.runPromise(diffStat(repo, head, tree))
      assert.deepStrictEqual(
        stat.map((s) => `${s.path} +${s.added} -${s.deleted}`),
        ["new.secret +1 -0", "old.secret +1 -1", "sub/new.txt +1 -0", "é.txt +1 -0"],
      )
    } finally {
      cleanup()
    }
  })

  it("apply writes files as checkout does: clean/smudge filters (git-crypt style) and modes", async () => {
    const { base, repo, cleanup } = makeRepo()
    try {
      const rot = script(base, "rot.sh", "tr 'a-zA-Z' 'n-za-mN-ZA-M'")
      sh(repo, "config", "filter.rot.clean", rot)
      sh(repo, "config", "filter.rot.smudge", rot)
      writeFileSync(join(repo, ".gitattributes"), "*.secret filter=rot\n")
      writeFileSync(join(repo, "old.secret"), "alpha\nbeta\ngamma\n")
      sh(repo, "add", ".")
      sh(repo, "commit", "-qm", "secrets")
      assert.strictEqual(sh(repo, "cat-file", "-p", "HEAD:old.secret"), "nycun\norgn\ntnzzn")
      const head = sh(repo, "rev-parse", "HEAD")
      const wt = join(base, "wt")
      await Effect.runPromise(addWorktree(repo, wt, "task", head))
      writeFileSync(join(wt, "new.secret"), "hello\n")
      writeFileSync(join(wt, "old.secret"), "alpha\nBETA\ngamma\n")
      writeFileSync(join(wt, "run.sh"), "#!/bin/sh\n", { mode: 0o755 })
      rmSync(join(wt, "f.txt"))
      const tree = await Effect.runPromise(worktreeTree(wt))
      const applied = await Effect.runPromise(applyTree(repo, head, tree))
      assert.deepStrictEqual(applied, {
        _tag: "Applied",
        files: ["f.txt", "new.secret", "old.secret", "run.sh"],
      })
      assert.strictEqual(readFileSync(join(repo, "new.secret"), "utf8"), "hello\n")
      assert.strictEqual(readFileSync(join(repo, "old.secret"), "utf8"), "alpha\nBETA\ngamma\n")
      assert.isFalse(existsSync(join(repo, "f.txt")))
      assert.strictEqual(statSync(join(repo, "run.sh")).mode & 0o111, 0o111)
      assert.strictEqual(
        sh(repo, "status", "--porcelain"),
        "D f.txt\n M old.secret\n?? new.secret\n?? run.sh",
      )
    } finally {
      cleanup()
    }
  })

  it("the tool's own commits neither sign (commit.gpgsign) nor run hooks", async () => {
    const { base, repo, cleanup } = makeRepo()
    try {
      const marker = join(base, "called")
      const gpg = script(base, "gpg.sh", `echo gpg >> "${marker}"; exit 1`)
      sh(repo, "config", "commit.gpgsign", "true")
      sh(repo, "config", "gpg.program", gpg)
      const hooks = join(base, "hooks")
      mkdirSync(hooks)
      for (const hook of ["pre-commit", "prepare-commit-msg", "commit-msg", "post-commit"])
        script(hooks, hook, `echo ${hook} >> "${marker}"; exit 1`)
      sh(repo, "config", "core.hooksPath", hooks)
      const head = sh(repo, "rev-parse", "HEAD")
      const wt = join(base, "wt")
      await Effect.runPromise(addWorktree(repo, wt, "task", head))
      writeFileSync(join(wt, "f.txt"), "one\nTWO\nthree\n")
      const tree = await Effect.runPromise(worktreeTree(wt))
      // apply's throwaway merge commits
      const applied = await run(applyTree(repo, head, tree))
      assert.isTrue(Exit.isSuccess(applied), failure(applied as never))
      // archive's commit of a worktree's uncommitted work
      const committed = await run(commitAll(wt, "codex-tasks: uncommitted work of X"))
      assert.isTrue(Exit.isSuccess(committed), failure(committed as never))
      assert.strictEqual(sh(repo, "show", "task:f.txt"), "one\nTWO\nthree")
      assert.isFalse(existsSync(marker), existsSync(marker) ? readFileSync(marker, "utf8") : "")
    } finally {
      cleanup()
    }
  })
})
