import { execFileSync, spawnSync } from "node:child_process"
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"

// `status` shows a task's last-turn files from its log. For a task without a worktree that is all
// it needs: it used to run git five times per task too (and throw the answer away), which made
// `status -a` on a store of real tasks take seconds. A `git` first on PATH counts the runs.
const cli = join(process.cwd(), "dist/bin/codex-tasks.js")
const home = mkdtempSync(join(tmpdir(), "ct-status-git-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim()
const bin = join(home, "bin")
const gitRuns = join(home, "git-runs.txt")
mkdirSync(bin)
writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> "${gitRuns}"\nexec "${realGit}" "$@"\n`)
chmodSync(join(bin, "git"), 0o755)

const repo = join(home, "repo")
mkdirSync(repo)
const git = (...args: Array<string>) => execFileSync(realGit, args, { cwd: repo })
git("init", "-q", "-b", "main")
writeFileSync(join(repo, "a.txt"), "one\n")
git("add", ".")
git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
writeFileSync(join(repo, "a.txt"), "two\n")

const store = join(home, "store")
const ids = ["01a20000-0000-7000-8000-00000000000a", "01a20000-0000-7000-8000-00000000000b"]
mkdirSync(store, { mode: 0o700 })
for (const id of ids) {
  const dir = join(store, id)
  mkdirSync(dir, { mode: 0o700 })
  const at = "2026-01-01T00:00:00Z"
  const meta = {
    id,
    title: "edits a.txt",
    state: "STOPPED",
    created_at: at,
    updated_at: at,
    initial_prompt: "edit",
    last_prompt: "edit",
    working_dir: repo,
    schema_version: 1,
    turns: 1,
  }
  writeFileSync(join(dir, "task.json"), JSON.stringify(meta))
  const change = { type: "file_change", changes: [{ path: join(repo, "a.txt"), kind: "update" }] }
  writeFileSync(
    join(dir, "task.log"),
    [
      { type: "user_message", message: "edit" },
      { type: "thread.started", thread_id: id },
      { type: "item.completed", item: { id: "item_0", ...change, status: "completed" } },
    ]
      .map((e) => `${JSON.stringify(e)}\n`)
      .join(""),
  )
}

const status = (...args: Array<string>) =>
  spawnSync(process.execPath, [cli, "status", "--store-root", store, ...args], {
    env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: home, NO_COLOR: "1" },
    encoding: "utf8",
  })

describe("status of tasks without a worktree", () => {
  it("shows the last turn's files without running git", () => {
    const text = status(ids[0] ?? "")
    assert.strictEqual(text.status, 0, text.stderr)
    assert.include(text.stdout, `Last Turn Files: ${join(repo, "a.txt")}`)
    const json = status("-a", "--json")
    assert.strictEqual(json.status, 0, json.stderr)
    const views = JSON.parse(json.stdout) as Array<{ last_turn_files?: Array<string> }>
    assert.deepStrictEqual(
      views.map((v) => v.last_turn_files),
      [[join(repo, "a.txt")], [join(repo, "a.txt")]],
    )
    let runs = ""
    try {
      runs = readFileSync(gitRuns, "utf8")
    } catch {}
    assert.strictEqual(runs, "", "git runs")
  })
})
