import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import {
  type CliSandbox,
  commandLine,
  makeCliSandbox,
  runCli,
  taskProcesses,
  waitFor,
  waitForState,
} from "../support/cli.js"

// Edges of stop that users hit: typos among ids, workers killed outright, prompts that a stop
// drops while a `send --wait` waits for them.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  return sandbox
}

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

const startLong = async (sandbox: CliSandbox, command = "sleep 300") => {
  const run = await runCli(sandbox, ["start", ...FLAGS, `Long.\nRUN:${command}\nREPLY:never`])
  assert.strictEqual(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  // wait until the command runs (a marked `sleep` exists)
  await waitFor("the command to run", async () =>
    taskProcesses(sandbox, id).marked.some((pid) => commandLine(pid)?.startsWith("sleep 300"))
      ? true
      : undefined,
  )
  return id
}

describe("stop", () => {
  it("stops the tasks it can resolve and reports an unknown id (exit 1)", async () => {
    const sandbox = await setup()
    const id = await startLong(sandbox)
    const run = await runCli(sandbox, ["stop", id, "no-such-task"])
    assert.strictEqual(run.code, 1)
    assert.include(run.stdout, `Task ${id} stopped.`)
    assert.match(run.stderr, /no-such-task/)
    assert.deepStrictEqual(taskProcesses(sandbox, id), { worker: undefined, marked: [] })
  })

  it("kills what a worker killed outright left behind", async () => {
    const sandbox = await setup()
    // A command that detaches part of itself survives its parents, as real builds and servers do.
    const id = await startLong(sandbox, "setsid sleep 300 & sleep 300")
    const { worker } = taskProcesses(sandbox, id)
    assert.isDefined(worker)
    process.kill(worker as number, "SIGKILL")
    await waitFor("the worker to be gone", async () =>
      taskProcesses(sandbox, id).worker === undefined ? true : undefined,
    )
    assert.isAbove(
      taskProcesses(sandbox, id).marked.length,
      0,
      "codex and its command outlive a SIGKILLed worker",
    )
    const run = await runCli(sandbox, ["stop", id])
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(run.stdout, /had lost its worker; killed \d+ leftover process/)
    assert.deepStrictEqual(taskProcesses(sandbox, id).marked, [])
  })

  it("send --wait exits 3 when a stop drops its prompt", async () => {
    const sandbox = await setup()
    const id = await startLong(sandbox)
    const waiting = runCli(sandbox, ["send", "--wait", id, "REPLY:never sent"])
    await waitFor("the prompt to be queued", async () => {
      const s = await runCli(sandbox, ["status", "--json", id])
      return (JSON.parse(s.stdout) as { queued_prompts: number }).queued_prompts === 1
        ? true
        : undefined
    })
    const stop = await runCli(sandbox, ["stop", id])
    assert.strictEqual(stop.code, 0, stop.stderr)
    const sent = await waiting
    assert.strictEqual(sent.code, 3)
    assert.match(sent.stderr, /dropped by a stop/)
    await waitForState(sandbox, id, "STOPPED")
  })
})
