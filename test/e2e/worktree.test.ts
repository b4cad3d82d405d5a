import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox, runCli, storeEntries, taskDir, waitForState } from "../support/cli.js"
import { git } from "../support/git.js"
import { callTool, connectMcp, structured, textOf } from "../support/mcpClient.js"
import { assertSchema } from "../support/watchHelpers.js"

// `start --worktree`, `diff`, `apply`, `archive` of worktree tasks, and MCP `task_start`
// `worktree` + `task_diff` + `task_send`, with the real codex.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  const repo = sandbox.cwd
  git(repo, "init", "-q", "-b", "main")
  writeFileSync(join(repo, "README"), "base\n")
  git(repo, "add", ".")
  git(repo, "commit", "-qm", "base")
  return { sandbox, repo }
}

const worktreeOf = (sandbox: { storeRoot: string }, id: string) =>
  JSON.parse(readFileSync(join(taskDir(sandbox as never, id), "worktree.json"), "utf8")) as {
    path: string
    branch: string
  }

describe("worktree tasks", () => {
  it("two tasks change one file differently; each sees only its own; apply of the second is refused untouched", async () => {
    const { sandbox, repo } = await setup()
    const ids: Array<string> = []
    for (const text of ["from task A", "from task B"]) {
      const run = await runCli(sandbox, [
        "start",
        "--worktree",
        "-s",
        "workspace-write",
        "-t",
        text,
        `PATCH:f.txt:${text}\nREPLY:done`,
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      ids.push(run.stdout.trim())
    }
    const [a = "", b = ""] = ids
    for (const id of ids) await waitForState(sandbox, id, "STOPPED")
    const wa = worktreeOf(sandbox, a)
    const wb = worktreeOf(sandbox, b)
    assert.strictEqual(wa.branch, `codex-tasks/${a.slice(0, 8)}`)
    assert.strictEqual(readFileSync(join(wa.path, "f.txt"), "utf8").trim(), "from task A")
    assert.strictEqual(readFileSync(join(wb.path, "f.txt"), "utf8").trim(), "from task B")
    assert.isFalse(existsSync(join(repo, "f.txt")), "the original checkout is untouched")

    const diffA = await runCli(sandbox, ["diff", a])
    assert.strictEqual(diffA.code, 0, diffA.stderr)
    assert.include(diffA.stdout, "+from task A")
    assert.notInclude(diffA.stdout, "from task B")
    const status = await runCli(sandbox, ["status", "--json", a])
    const json = JSON.parse(status.stdout) as {
      worktree: { branch: string; changed_files: number }
      last_turn_files: Array<string>
    }
    assert.strictEqual(json.worktree.branch, wa.branch)
    assert.strictEqual(json.worktree.changed_files, 1)
    assert.deepStrictEqual(json.last_turn_files, [join(wa.path, "f.txt")])
    const statB = await runCli(sandbox, ["diff", "--stat", b])
    assert.include(statB.stdout, "f.txt | +1 -0")

    // The user's diff settings do not reach the patch apply writes (a/ b/ prefixes, no colour).
    git(repo, "config", "diff.noprefix", "true")
    git(repo, "config", "color.ui", "always")
    const applyA = await runCli(sandbox, ["apply", a])
    assert.strictEqual(applyA.code, 0, applyA.stderr)
    assert.strictEqual(readFileSync(join(repo, "f.txt"), "utf8").trim(), "from task A")
    const before = git(repo, "status", "--porcelain")
    const applyB = await runCli(sandbox, ["apply", b])
    assert.strictEqual(applyB.code, 1)
    assert.match(applyB.stderr, /conflict .* in: f\.txt\. Nothing was changed/)
    assert.strictEqual(readFileSync(join(repo, "f.txt"), "utf8").trim(), "from task A")
    assert.strictEqual(git(repo, "status", "--porcelain"), before)
  })

  it.each(["exec", "app-server"])(
    "a second turn runs in the worktree; archive commits uncommitted work to the kept branch (%s backend)",
    async (backend) => {
      const { sandbox, repo } = await setup()
      const run = await runCli(sandbox, [
        "start",
        "--backend",
        backend,
        "--worktree",
        "-s",
        "workspace-write",
        "REPLY:first",
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      const id = run.stdout.trim()
      await waitForState(sandbox, id, "STOPPED")
      const wt = worktreeOf(sandbox, id)
      const send = await runCli(sandbox, ["send", id, "PATCH:second.txt:turn two\nREPLY:ok"])
      assert.strictEqual(send.code, 0, send.stderr)
      await waitForState(sandbox, id, "STOPPED", { extra: (m) => (m.turns ?? 0) >= 2 })
      assert.strictEqual(readFileSync(join(wt.path, "second.txt"), "utf8").trim(), "turn two")
      assert.isFalse(existsSync(join(repo, "second.txt")))

      // An ignored build output: no commit has it, archive keeps it with the task.
      writeFileSync(join(wt.path, ".gitignore"), "out/\n")
      mkdirSync(join(wt.path, "out"))
      writeFileSync(join(wt.path, "out", "build.bin"), "built\n")
      const archived = await runCli(sandbox, ["archive", id])
      assert.strictEqual(archived.code, 0, archived.stderr)
      assert.isFalse(existsSync(wt.path), "the worktree directory is removed")
      const dir = /archived to (\S+?);/.exec(archived.stdout)?.[1] ?? ""
      assert.include(
        archived.stdout,
        `1 ignored path(s) of its worktree kept in ${dir}/worktree-ignored`,
      )
      assert.strictEqual(
        readFileSync(join(dir, "worktree-ignored", "out", "build.bin"), "utf8"),
        "built\n",
      )
      assert.strictEqual(git(repo, "show", `${wt.branch}:second.txt`), "turn two")
      assert.strictEqual(
        git(repo, "log", "-1", "--format=%s", wt.branch),
        `codex-tasks: uncommitted work of ${id}`,
      )
      const diff = await runCli(sandbox, ["diff", "--stat", id])
      assert.include(diff.stdout, "second.txt | +1 -0")
    },
  )

  it("is refused outside a git repository and when the branch exists", async () => {
    const { sandbox, repo } = await setup()
    git(repo, "branch", "taken")
    const taken = await runCli(sandbox, ["start", "--worktree", "--branch", "taken", "REPLY:x"])
    assert.strictEqual(taken.code, 1)
    assert.match(taken.stderr, /branch taken already exists/)
    const outside = await runCli(sandbox, [
      "start",
      "--worktree",
      "--working-dir",
      sandbox.home,
      "REPLY:x",
    ])
    assert.strictEqual(outside.code, 1)
    assert.match(outside.stderr, /is not in one/)
  })

  it("MCP: task_start worktree runs in a new worktree, task_diff is diff --json, task_send feeds it; refusals are tool errors", async () => {
    const { sandbox, repo } = await setup()
    git(repo, "branch", "taken")
    const noCommit = join(sandbox.home, "no-commit")
    mkdirSync(noCommit)
    git(noCommit, "init", "-q")
    const { client, transport } = await connectMcp(sandbox, ["--allow-dir", sandbox.home])
    cleanups.push(async () => {
      transport.child.kill("SIGKILL")
      await transport.ended
    })
    const started = await callTool(client, "task_start", {
      prompt: "PATCH:f.txt:via mcp\nREPLY:done",
      sandbox: "workspace-write",
      worktree: {},
    })
    const { id } = structured<{ id: string }>(started)
    await waitForState(sandbox, id, "STOPPED")
    const wt = worktreeOf(sandbox, id)
    assert.strictEqual(wt.branch, `codex-tasks/${id.slice(0, 8)}`)
    assert.strictEqual(readFileSync(join(wt.path, "f.txt"), "utf8").trim(), "via mcp")
    assert.isFalse(existsSync(join(repo, "f.txt")), "the original checkout is untouched")

    const diff = structured(await callTool(client, "task_diff", { taskId: id }))
    const cli = await runCli(sandbox, ["diff", "--json", id])
    assert.deepStrictEqual(diff, JSON.parse(cli.stdout))
    assertSchema("diff", diff, "diff --json")
    assert.deepStrictEqual(diff.files, [{ path: "f.txt", added: 1, deleted: 0 }])
    assert.include(diff.patch as string, "+via mcp")

    // The task works in the store, outside the server's directory: it is judged by where it started.
    const sent = await callTool(client, "task_send", {
      taskId: id,
      prompt: "PATCH:g.txt:turn two\nREPLY:ok",
    })
    assert.notStrictEqual(sent.isError, true, textOf(sent))
    await waitForState(sandbox, id, "STOPPED", { extra: (m) => (m.turns ?? 0) >= 2 })
    assert.strictEqual(readFileSync(join(wt.path, "g.txt"), "utf8").trim(), "turn two")

    for (const [args, message] of [
      [{ worktree: { branch: "taken" } }, /branch taken already exists/],
      [{ workingDir: sandbox.home, worktree: {} }, /is not in one/],
      [{ workingDir: noCommit, worktree: {} }, /has none yet/],
      [{ worktree: { base: "no-such-ref" } }, /--base no-such-ref names no commit/],
    ] as const) {
      const r = await callTool(client, "task_start", { prompt: "REPLY:x", ...args })
      assert.isTrue(r.isError, textOf(r))
      assert.match(textOf(r), message)
    }
    assert.deepStrictEqual(
      storeEntries(sandbox).filter((e) => !e.startsWith(".")),
      [id],
    )
  })
})
