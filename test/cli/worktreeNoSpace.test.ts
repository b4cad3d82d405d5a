import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { installFaultPlan } from "../../src/store/faults.js"
import { type OpenCliWorld, openCliWorld } from "../support/cliInProcess.js"

// Found by the crash sweep (`worktree-start`, --mode enospc): a full disk while `start --worktree`
// wrote its worktree records printed "internal error" (a defect), not the store's error.

const worlds: Array<OpenCliWorld> = []
afterEach(async () => {
  installFaultPlan(undefined)
  for (const w of worlds.splice(0)) await w.close()
})

const gitRepo = (dir: string) => {
  mkdirSync(dir, { recursive: true })
  const git = (...args: Array<string>) => spawnSync("git", args, { cwd: dir, stdio: "ignore" })
  git("init", "-q", "-b", "main")
  git("config", "user.name", "t")
  git("config", "user.email", "t@example.invalid")
  writeFileSync(join(dir, "README"), "x\n")
  git("add", "README")
  git("commit", "-q", "-m", "init")
}

describe("start --worktree on a full disk", () => {
  it("fails with the store's error (exit 1), not an internal error", async () => {
    const world = await openCliWorld([])
    worlds.push(world)
    const repo = join(world.workingDir, "repo")
    gitRepo(repo)
    installFaultPlan({ enospcFrom: 1 })
    const run = await world.run(["start", "--working-dir", repo, "--worktree", "hello"])
    installFaultPlan(undefined)
    assert.strictEqual(run.code, 1, run.stderr)
    assert.match(run.stderr, /ENOSPC|no space left/i)
    assert.notMatch(run.stderr, /internal error/i)
    assert.strictEqual(world.codexRuns(), 0)
  })
})
