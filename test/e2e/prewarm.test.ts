import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { commandLine, runCli, SANDBOX_MARK_VAR, taskDir, waitFor } from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { processesWithEnv } from "../support/processes.js"

// A `start` in a store already in use spawns its worker before the CLI has loaded
// (src/launcher/prewarm.ts). These tests check what a user would notice if that went wrong: the
// task must run where it was told, keep its worker's stderr, and a start that fails must leave
// neither a process nor a scratch directory behind.

const { setup } = e2eWorld()

const workersOf = (mark: string) =>
  processesWithEnv(SANDBOX_MARK_VAR, mark).filter((pid) =>
    (commandLine(pid) ?? "").includes("__worker"),
  )
const startDirs = (storeRoot: string) => {
  try {
    return readdirSync(join(storeRoot, ".tmp")).filter((n) => n.startsWith("start-"))
  } catch {
    return []
  }
}

describe("a start whose worker was spawned ahead", () => {
  it("runs the task in its working directory and keeps the worker's stderr", async () => {
    const { server, sandbox } = await setup()
    const first = await runCli(sandbox, ["start", "--skip-git-repo-check", "REPLY:one"])
    assert.strictEqual(first.code, 0, first.stderr)
    // The store and its .tmp/ exist now: the next start prewarms. It is run from another
    // directory than its --working-dir, so a worker that stayed where it was spawned shows.
    const started = await runCli(
      sandbox,
      [
        "start",
        "--skip-git-repo-check",
        "--working-dir",
        sandbox.cwd,
        "Hold.\nDELAY:60000\nREPLY:never",
      ],
      { cwd: sandbox.storeRoot, env: { NODE_DEBUG: "child_process" } },
    )
    assert.strictEqual(started.code, 0, started.stderr)
    const id = started.stdout.trim()
    await server.waitForRequests(2)
    const dir = taskDir(sandbox, id)
    const worker = readWorkerIdentity(dir)?.pid
    assert.isDefined(worker)
    assert.strictEqual(readlinkSync(`/proc/${worker}/cwd`), sandbox.cwd)
    assert.include(readFileSync(join(dir, "worker.stderr"), "utf8"), "CHILD_PROCESS")
    const stop = await runCli(sandbox, ["stop", id])
    assert.strictEqual(stop.code, 0, stop.stderr)
    await waitFor("the start's scratch directory to go", () =>
      startDirs(sandbox.storeRoot).length === 0 ? true : undefined,
    )
  })

  it("leaves no process and no scratch directory when the start is refused", async () => {
    const { sandbox } = await setup()
    const first = await runCli(sandbox, ["start", "--skip-git-repo-check", "REPLY:one"])
    assert.strictEqual(first.code, 0, first.stderr)
    await waitFor("the first task's worker to exit", () =>
      workersOf(sandbox.mark).length === 0 ? true : undefined,
    )
    const bad = await runCli(sandbox, ["start", "--max-tokens", "lots", "REPLY:two"])
    assert.strictEqual(bad.code, 2, bad.stderr)
    await waitFor("no worker left", () => (workersOf(sandbox.mark).length === 0 ? true : undefined))
    assert.deepStrictEqual(startDirs(sandbox.storeRoot), [])
  })
})
