import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import {
  type CliSandbox,
  commandLine,
  makeCliSandbox,
  runCli,
  taskProcesses,
  tokenProcesses,
  tokenSleep,
  waitFor,
} from "../support/cli.js"

// A worker killed outright (OOM killer, kill -9, a crash) leaves codex and its commands running.
// status shows them, archive ends them before the move (afterwards nothing could find them).

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

/** A task whose worker was SIGKILLed while its command (two token sleeps, one detached) ran. */
const lostTask = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  const sleep = tokenSleep(sandbox)
  const run = await runCli(sandbox, [
    "start",
    ...FLAGS,
    `Long.\nRUN:setsid ${sleep} & ${sleep}\nREPLY:never`,
  ])
  assert.strictEqual(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  await waitFor("both sleeps", async () => (sleepers(sandbox).length === 2 ? true : undefined))
  const { worker } = taskProcesses(sandbox, id)
  assert.isDefined(worker)
  process.kill(worker as number, "SIGKILL")
  await waitFor("the worker to be gone", async () =>
    taskProcesses(sandbox, id).worker === undefined ? true : undefined,
  )
  return { sandbox, id }
}

const sleepers = (sandbox: CliSandbox) =>
  tokenProcesses(sandbox).filter((pid) => commandLine(pid) === tokenSleep(sandbox))

describe("leftovers of a lost worker", () => {
  it("status shows them, archive ends them before moving the task", async () => {
    const { sandbox, id } = await lostTask()
    const left = sleepers(sandbox)
    // The detached sleep always outlives the worker; the other one does while codex lives on.
    assert.isAtLeast(left.length, 1, "codex's commands outlive the worker")

    const human = await runCli(sandbox, ["status", id])
    assert.strictEqual(human.code, 0, human.stderr)
    assert.include(human.stdout, "State: DIED")
    assert.match(human.stdout, /Leftover Processes: \d+ still running from its last worker/)
    // (a sleep alive now was alive while status ran; the foreground one may die with codex)
    for (const pid of sleepers(sandbox))
      assert.include(human.stdout, `  ${pid} ${tokenSleep(sandbox)}`)

    const json = await runCli(sandbox, ["status", "--json", id])
    const view = JSON.parse(json.stdout) as {
      leftover_processes?: ReadonlyArray<{ pid: number; command: string }>
    }
    const listed = (view.leftover_processes ?? []).filter((p) => p.command === tokenSleep(sandbox))
    const stillThere = sleepers(sandbox)
    assert.isAtLeast(stillThere.length, 1)
    assert.includeMembers(
      listed.map((p) => p.pid),
      stillThere,
    )

    const archive = await runCli(sandbox, ["archive", id])
    assert.strictEqual(archive.code, 0, archive.stderr)
    assert.match(
      archive.stdout,
      /archived to .*\(killed \d+ leftover process\(es\) of its last worker first\)/,
    )
    assert.deepStrictEqual(
      tokenProcesses(sandbox).map((pid) => `${pid}: ${commandLine(pid)}`),
      [],
      "nothing of the task survives its archive",
    )
  })
})
