import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { connectInProcess, text, writeTask } from "../support/mcpInProcess.js"

// MCP `task_diff` (read-only, `diff --json [--stat]`) and `task_start`'s `worktree` and
// `extraArgs`, on the in-process server (the task service's start is a stand-in here; the real
// start of a worktree task through MCP is in test/e2e/worktree.test.ts).

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const git = (cwd: string, ...args: Array<string>) => {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t" },
  })
  assert.strictEqual(r.status, 0, r.stderr)
  return r.stdout.trim()
}

const ID = "0199d7d0-0000-7000-8000-00000000000a"

/** A server whose directory holds a repository, and a worktree task of it started from `from`. */
const setup = async (options: { readonly allowUnsafe?: boolean; readonly outside?: boolean }) => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "ct-diff-")))
  cleanups.push(async () => rmSync(base, { recursive: true, force: true }))
  const cwd = join(base, "cwd")
  const repo = options.outside === true ? join(base, "elsewhere") : join(cwd, "repo")
  mkdirSync(repo, { recursive: true })
  git(repo, "init", "-q", "-b", "main")
  git(repo, "config", "user.name", "t")
  git(repo, "config", "user.email", "t@t")
  writeFileSync(join(repo, "f.txt"), "one\n")
  git(repo, "add", ".")
  git(repo, "commit", "-qm", "base")
  const session = await connectInProcess({ cwd, allowUnsafe: options.allowUnsafe === true })
  cleanups.push(session.close)
  const path = join(session.storeRoot, ".worktrees", "abc")
  const branch = `codex-tasks/${ID.slice(0, 8)}`
  const baseCommit = git(repo, "rev-parse", "HEAD")
  git(repo, "worktree", "add", "-q", "-b", branch, path, baseCommit)
  writeFileSync(join(path, "f.txt"), "one\ntwo\n")
  const dir = writeTask(session.storeRoot, ID, { exec: { working_dir: path } })
  writeFileSync(
    join(dir, "worktree.json"),
    JSON.stringify({ path, branch, base: baseCommit, base_ref: "HEAD", repo, dir: repo }),
  )
  return { ...session, repo, path, branch, baseCommit }
}

describe("task_diff", () => {
  it("is listed as read-only and idempotent", async () => {
    const { client } = await setup({})
    const tool = (await client.listTools()).tools.find((t) => t.name === "task_diff")
    assert.isTrue(tool?.annotations?.readOnlyHint)
    assert.isTrue(tool?.annotations?.idempotentHint)
    assert.isFalse(tool?.annotations?.destructiveHint)
  })

  it("gives diff --json of a worktree task: branch, base, files and patch; stat leaves the patch out", async () => {
    const { call, path, branch, baseCommit } = await setup({})
    const full = await call("task_diff", { taskId: ID.slice(0, 30) })
    assert.notStrictEqual(full.isError, true, text(full))
    const { patch, ...rest } = full.structuredContent as { patch: string }
    assert.deepStrictEqual(rest, {
      id: ID,
      worktree: { path, branch, base: baseCommit },
      files: [{ path: "f.txt", added: 1, deleted: 0 }],
      touched: null,
    })
    assert.include(patch, "+two")
    assert.include(text(full), "+two")
    const stat = await call("task_diff", { taskId: ID, stat: true })
    assert.notProperty(stat.structuredContent, "patch")
    assert.include(text(stat), "f.txt | +1 -0")
  })

  it("refuses a worktree task started outside the allowed trees, unless --allow-unsafe", async () => {
    for (const allowUnsafe of [false, true]) {
      const { call, repo } = await setup({ allowUnsafe, outside: true })
      const r = await call("task_diff", { taskId: ID })
      if (allowUnsafe) assert.notStrictEqual(r.isError, true, text(r))
      else {
        assert.isTrue(r.isError, text(r))
        assert.include(text(r), repo)
        assert.include(text(r), "not started with --allow-unsafe")
      }
    }
  })
})

describe("task_start worktree and extraArgs", () => {
  it("passes worktree on as start --worktree --base --branch would, with workingDir confined", async () => {
    const { call, calls, repo } = await setup({})
    const r = await call("task_start", {
      prompt: "p",
      workingDir: repo,
      worktree: { base: "main", branch: "try-1" },
    })
    assert.notStrictEqual(r.isError, true, text(r))
    const bare = await call("task_start", { prompt: "p", workingDir: repo, worktree: {} })
    assert.notStrictEqual(bare.isError, true, text(bare))
    assert.deepStrictEqual(
      calls.starts.map((s) => s.worktree),
      [{ base: "main", branch: "try-1" }, {}],
    )
    const outside = await call("task_start", { prompt: "p", workingDir: "/", worktree: {} })
    assert.isTrue(outside.isError, text(outside))
    assert.include(text(outside), "workingDir / is refused")
    assert.lengthOf(calls.starts, 2)
  })

  it("refuses extraArgs without --allow-unsafe and passes them on with it", async () => {
    for (const allowUnsafe of [false, true]) {
      const { call, calls } = await setup({ allowUnsafe })
      const r = await call("task_start", { prompt: "p", extraArgs: ["--oss"] })
      if (allowUnsafe) {
        assert.notStrictEqual(r.isError, true, text(r))
        assert.deepStrictEqual(calls.starts[0]?.options.extraArgs, ["--oss"])
      } else {
        assert.isTrue(r.isError, text(r))
        assert.include(text(r), "extraArgs is refused")
        assert.lengthOf(calls.starts, 0)
      }
    }
  })
})
