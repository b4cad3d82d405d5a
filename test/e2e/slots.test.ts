import { spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { isSameProcessAlive } from "../../src/processes/procfs.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { onBackend } from "../support/backends.js"
import {
  type CliSandbox,
  cliPath,
  runCli,
  storeEntries,
  taskProcesses,
  tokenProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { codexExecProcesses } from "../support/codexProcesses.js"
import { e2eWorld } from "../support/e2eWorld.js"

// Run slots (issue 12, item 1) with the real codex: `--max-running N` caps the codex processes of
// a store, the others wait first come first served, and a killed holder frees its slot.

const world = e2eWorld()
const _cleanups = world.cleanups
const setup = async () => (await world.setup()).sandbox

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

/**
 * A task holding the only slot (`--max-running 1`): its turn runs a long sleep. codex gives a
 * command back to the model after its yield time (10 s by default), which would end the turn and
 * free the slot; `YIELD:30000` (codex's longest) keeps the slot taken for 30 s.
 */
const startHolder = async (sandbox: CliSandbox) => {
  const holder = await runCli(sandbox, [
    "--max-running",
    "1",
    "start",
    ...FLAGS,
    `Hold.\nYIELD:30000\nRUN:${tokenSleep(sandbox)}\nREPLY:never`,
  ])
  assert.strictEqual(holder.code, 0, holder.stderr)
  await waitFor("the holder's command", () =>
    tokenProcesses(sandbox).length > 0 ? true : undefined,
  )
  return holder.stdout.trim()
}

const isAlive = (identity: { pid: number; startTime: string }) => isSameProcessAlive(identity)

/** Live workers of starts that have no task yet (owners of `.tmp/<start>/`), minus the tasks'. */
const pendingWorkers = (sandbox: CliSandbox) => {
  const base = join(sandbox.storeRoot, ".tmp")
  const taskWorkers = storeEntries(sandbox).map(
    (id) => readWorkerIdentity(join(sandbox.storeRoot, id))?.pid,
  )
  let names: Array<string> = []
  try {
    names = readdirSync(base)
  } catch {
    return []
  }
  return names
    .map((name) => readWorkerIdentity(join(base, name)))
    .filter((w) => w !== undefined && isAlive(w) && !taskWorkers.includes(w.pid))
    .map((w) => w!)
}

const slotTicketCount = (sandbox: CliSandbox) => {
  try {
    return readdirSync(join(sandbox.storeRoot, ".slots")).filter((n) => n.endsWith(".json")).length
  } catch {
    return 0
  }
}

describe("--max-running", () => {
  it("runs 5 tasks under a cap of 2: never more than 2 codex at once, all 5 finish", async () => {
    const sandbox = await setup()
    let most = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const now = codexExecProcesses(sandbox)
        most = Math.max(most, now.length)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const starts = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        runCli(
          sandbox,
          ["--max-running", "2", "start", ...FLAGS, `Task ${n}.\nDELAY:1200\nREPLY:done ${n}`],
          { timeoutMs: 120_000 },
        ),
      ),
    )
    for (const s of starts) assert.strictEqual(s.code, 0, s.stderr)
    const ids = starts.map((s) => s.stdout.trim())
    for (const id of ids) {
      const done = await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
      assert.strictEqual(done.meta.last_outcome?.kind, "completed")
      assert.match(done.meta.last_result ?? "", /^done \d$/)
    }
    sampling = false
    await sampler
    assert.strictEqual(most, 2, `at most 2 codex processes, and the cap was reached (saw ${most})`)
    const waited = starts.filter((s) => s.stderr.includes("waiting for a run slot"))
    assert.isAtLeast(waited.length, 1, "a start that had to wait said so on stderr")
    for (const s of waited) assert.strictEqual(s.stderr.trim().split("\n").length, 1, s.stderr)
  }, 180_000)

  it("a queued send waits RUNNING with waiting.for=slot; a SIGKILLed holder's codex keeps its slot until it ends", async () => {
    const sandbox = await setup()
    const first = await runCli(sandbox, ["start", ...FLAGS, "First.\nREPLY:one"])
    assert.strictEqual(first.code, 0, first.stderr)
    const waiter = first.stdout.trim()
    await waitForState(sandbox, waiter, "STOPPED")
    const holderId = await startHolder(sandbox)
    const sent = await runCli(sandbox, ["send", "--max-running", "1", waiter, "Again.\nREPLY:two"])
    assert.strictEqual(sent.code, 0, sent.stderr)
    const waiting = await waitForState(sandbox, waiter, "RUNNING", {
      extra: (m) => m.waiting?.for === "slot",
    })
    assert.strictEqual(waiting.meta.waiting?.for, "slot")
    const shown = await runCli(sandbox, ["status", "--json", waiter])
    assert.deepInclude(JSON.parse(shown.stdout), { state: "RUNNING" })
    assert.strictEqual(JSON.parse(shown.stdout).waiting?.for, "slot", shown.stdout)
    let most = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, codexExecProcesses(sandbox).length)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    // Killed outright: no release runs, the ticket stays behind with a dead owner, and the
    // holder's codex runs on (its command sleeps): the slot is still taken.
    const holderWorker = taskProcesses(sandbox, holderId).worker
    assert.isDefined(holderWorker)
    process.kill(holderWorker!, "SIGKILL")
    // Longer than a waiter's re-check (2-3 s): the waiter looks again and must keep waiting.
    await new Promise((r) => setTimeout(r, 4_000))
    // `stop` ends what the lost worker left (run.json): now the slot is free.
    const stopped = await runCli(sandbox, ["stop", holderId])
    assert.strictEqual(stopped.code, 0, stopped.stderr)
    const done = await waitForState(sandbox, waiter, "STOPPED", { timeoutMs: 60_000 })
    sampling = false
    await sampler
    assert.strictEqual(most, 1, "one codex at a time under --max-running 1")
    assert.strictEqual(done.meta.last_result, "two")
    assert.isUndefined(done.meta.waiting)
  }, 120_000)

  it("Ctrl-C on a start waiting for a slot calls it off: its worker is gone, no task appears", async () => {
    const sandbox = await setup()
    const holderId = await startHolder(sandbox)
    const child = spawn(
      process.execPath,
      [cliPath, "--max-running", "1", "start", ...FLAGS, "Never.\nREPLY:never"],
      { cwd: sandbox.cwd, env: sandbox.env, stdio: ["ignore", "pipe", "pipe"] },
    )
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)))
    await waitFor("the start to wait", () =>
      stderr.includes("waiting for a run slot") ? true : undefined,
    )
    const worker = pendingWorkers(sandbox)
    assert.strictEqual(worker.length, 1, "the start's worker")
    child.kill("SIGINT")
    assert.strictEqual(await exited, 130, stderr)
    assert.strictEqual(stdout, "", "no id printed")
    assert.isFalse(isAlive(worker[0]!), "the start's worker is gone when start returns")
    assert.deepStrictEqual(storeEntries(sandbox), [holderId], "no other task")
  }, 120_000)

  it("stop --all ends a start that waits for a slot (and the start says so)", async () => {
    const sandbox = await setup()
    await startHolder(sandbox)
    const start = runCli(sandbox, ["--max-running", "1", "start", ...FLAGS, "Never.\nREPLY:never"])
    await waitFor("the start's worker", () =>
      pendingWorkers(sandbox).length === 1 ? true : undefined,
    )
    // The worker exists before it takes its ticket: wait until it waits (its ticket is the 2nd).
    await waitFor("the start to wait", () => (slotTicketCount(sandbox) === 2 ? true : undefined))
    const stopped = await runCli(sandbox, ["stop", "--all"])
    assert.strictEqual(stopped.code, 0, stopped.stderr)
    assert.include(stopped.stdout, "without a task yet", stopped.stdout)
    assert.include(stopped.stdout, "Stopped 2 task(s).")
    const started = await start
    assert.notStrictEqual(started.code, 0, started.stderr)
    assert.include(started.stderr, "stopped before codex started a thread")
    assert.deepStrictEqual(pendingWorkers(sandbox), [])
  }, 120_000)

  it("app-server: 5 tasks under a cap of 2 never have more than 2 turns at the model at once", async () => {
    // On app-server a slot is held for a turn (decisions.md): the measure is turns in flight.
    // Each turn's one model request is answered 1.2 s after it arrives, so under the cap a third
    // request can only arrive once an earlier one was answered: never 3 within 1 s.
    const { server, sandbox } = await world.setup()
    const onAppServer = onBackend(sandbox, "app-server")
    const starts = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        runCli(
          onAppServer,
          ["--max-running", "2", "start", ...FLAGS, `Capped ${n}.\nDELAY:1200\nREPLY:done ${n}`],
          { timeoutMs: 120_000 },
        ),
      ),
    )
    for (const s of starts) assert.strictEqual(s.code, 0, s.stderr)
    for (const s of starts) {
      const done = await waitForState(sandbox, s.stdout.trim(), "STOPPED", { timeoutMs: 60_000 })
      assert.strictEqual(done.meta.last_outcome?.kind, "completed")
      assert.match(done.meta.last_result ?? "", /^done \d$/)
    }
    const arrivals = server.requests
      .filter((r) => r.lastUserText?.startsWith("Capped ") === true)
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b)
    assert.strictEqual(arrivals.length, 5, "one model request per task")
    for (let i = 2; i < arrivals.length; i++) {
      const spread = arrivals[i]! - arrivals[i - 2]!
      assert.isAtLeast(spread, 1_000, `3 turns at the model within ${spread} ms under a cap of 2`)
    }
  }, 180_000)

  it("refuses a --max-running that is not a whole number (exit 2)", async () => {
    const sandbox = await setup()
    const run = await runCli(sandbox, ["start", ...FLAGS, "x"], {
      env: { CODEX_TASKS_MAX_RUNNING: "two" },
    })
    assert.strictEqual(run.code, 2, run.stderr)
    assert.include(run.stderr, "CODEX_TASKS_MAX_RUNNING")
  })
})
