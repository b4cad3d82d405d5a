import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox, runCli, taskDir, waitFor } from "../support/cli.js"
import { isLive } from "../support/processes.js"

// A worker that dies leaves a trace: its own stderr is kept in the task directory, and `status`
// points at it. NODE_DEBUG makes the (real) worker write to its stderr while it runs.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe("the worker's own stderr", () => {
  it("is kept in worker.stderr, and status points at it when the worker was lost", async () => {
    const server = await startModelServer()
    cleanups.push(() => server.close())
    const sandbox = await makeCliSandbox(server)
    cleanups.push(sandbox.dispose)
    const env = { NODE_DEBUG: "child_process" }
    const started = await runCli(
      sandbox,
      ["start", "--skip-git-repo-check", "Stall.\nDELAY:60000\nREPLY:never"],
      { env },
    )
    assert.strictEqual(started.code, 0, started.stderr)
    const id = started.stdout.trim()
    await server.waitForRequests(1)
    const dir = taskDir(sandbox, id)
    const stderrFile = join(dir, "worker.stderr")
    assert.isTrue(existsSync(stderrFile), "moved into the task directory")
    assert.include(readFileSync(stderrFile, "utf8"), "CHILD_PROCESS", "the worker's own output")
    assert.strictEqual(statSync(stderrFile).mode & 0o777, 0o600)
    assert.deepStrictEqual(
      (await runCli(sandbox, ["status", "--json", id])).stdout.includes('"worker_stderr": null'),
      true,
      "not shown while the worker lives",
    )

    const worker = readWorkerIdentity(dir)?.pid
    assert.isDefined(worker)
    process.kill(worker!, "SIGKILL")
    await waitFor("the worker to die", () => (isLive(worker!) ? undefined : true))

    const status = await runCli(sandbox, ["status", id])
    assert.strictEqual(status.code, 0, status.stderr)
    assert.include(status.stdout, "worker lost")
    assert.include(status.stdout, `Worker Stderr: ${stderrFile}`)
    const json = JSON.parse((await runCli(sandbox, ["status", "--json", id])).stdout)
    assert.strictEqual(json.worker_stderr, stderrFile)
    await runCli(sandbox, ["stop", id])
  })
})
