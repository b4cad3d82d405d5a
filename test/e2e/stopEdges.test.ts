import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import {
  type CliSandbox,
  commandLine,
  runCli,
  taskProcesses,
  tokenProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"

// Edges of stop that users hit: typos among ids, workers killed outright, prompts that a stop
// drops while a `send --wait` waits for them.

const world = e2eWorld()
const _cleanups = world.cleanups
const setup = async () => (await world.setup()).sandbox

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

/** Starts a task running `command` (default: a sleep with the sandbox's token); waits for the sleep. */
const startLong = async (sandbox: CliSandbox, command = tokenSleep(sandbox)) => {
  const run = await runCli(sandbox, ["start", ...FLAGS, `Long.\nRUN:${command}\nREPLY:never`])
  assert.strictEqual(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  await waitFor("the command to run", async () =>
    tokenProcesses(sandbox).some((pid) => commandLine(pid) === tokenSleep(sandbox))
      ? true
      : undefined,
  )
  return id
}

const describeLeft = (sandbox: CliSandbox) =>
  tokenProcesses(sandbox).map((pid) => `${pid}: ${commandLine(pid)}`)

describe("stop", () => {
  it("stops the tasks it can resolve and reports an unknown id (exit 1)", async () => {
    const sandbox = await setup()
    const id = await startLong(sandbox)
    const run = await runCli(sandbox, ["stop", id, "no-such-task"])
    assert.strictEqual(run.code, 1)
    assert.include(run.stdout, `Task ${id} stopped.`)
    assert.match(run.stderr, /no-such-task/)
    assert.deepStrictEqual(taskProcesses(sandbox, id), {
      worker: undefined,
      marked: [],
      tokened: [],
    })
  })

  it("ends a command that dropped the run marker and left codex's session", async () => {
    const sandbox = await setup()
    // No environment (so no CODEX_TASKS_RUN_ID) and a session of its own: neither the marker
    // sweep nor a process-group kill reaches it, and codex's SIGINT clean-up misses it.
    const id = await startLong(sandbox, `env -i setsid -w sh -c 'exec ${tokenSleep(sandbox)}'`)
    const sleeper = tokenProcesses(sandbox).find((pid) => commandLine(pid) === tokenSleep(sandbox))
    assert.isDefined(sleeper)
    assert.notInclude(taskProcesses(sandbox, id).marked, sleeper, "the sleep is not marked")
    const run = await runCli(sandbox, ["stop", id])
    assert.strictEqual(run.code, 0, run.stderr)
    assert.include(run.stdout, `Task ${id} stopped.`)
    assert.deepStrictEqual(describeLeft(sandbox), [], "processes left by the stop")
  })

  it("kills what a worker killed outright left behind", async () => {
    const sandbox = await setup()
    // A command that detaches part of itself survives its parents, as real builds and servers do.
    const id = await startLong(sandbox, `setsid ${tokenSleep(sandbox)} & ${tokenSleep(sandbox)}`)
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
    assert.deepStrictEqual(describeLeft(sandbox), [])
  })

  it("ends an unmarked, setsid'd command of a worker that was killed outright", async () => {
    const sandbox = await setup()
    // Neither the marker nor codex's session reaches it, and its worker cannot clean up: only
    // what the worker recorded in run.json (the processes its run started) leads to it.
    const id = await startLong(sandbox, `env -i setsid -w sh -c 'exec ${tokenSleep(sandbox)}'`)
    const sleeper = tokenProcesses(sandbox).find((pid) => commandLine(pid) === tokenSleep(sandbox))
    assert.isDefined(sleeper)
    // Snapshots run every 500 ms; give the worker time to record the sleep.
    await waitFor("the sleep to be recorded in run.json", async () => {
      const run = readFileSync(join(sandbox.storeRoot, id, "run.json"), "utf8")
      return run.includes(`"pid": ${sleeper}`) || run.includes(`"pid":${sleeper}`)
        ? true
        : undefined
    })
    const { worker } = taskProcesses(sandbox, id)
    assert.isDefined(worker)
    process.kill(worker as number, "SIGKILL")
    await waitFor("the worker to be gone", async () =>
      taskProcesses(sandbox, id).worker === undefined ? true : undefined,
    )
    const run = await runCli(sandbox, ["stop", id])
    assert.strictEqual(run.code, 0, run.stderr)
    assert.deepStrictEqual(describeLeft(sandbox), [], "processes left by the stop")
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
