import { readFileSync } from "node:fs"
import { assert, describe, it } from "vitest"
import {
  type CliSandbox,
  commandLine,
  processesWithEnv,
  runCli,
  SANDBOX_MARK_VAR,
  taskProcesses,
  tokenProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"

// Run slots (issue 12, item 1) with the real codex: `--max-running N` caps the codex processes of
// a store, the others wait first come first served, and a killed holder frees its slot.

const world = e2eWorld()
const _cleanups = world.cleanups
const setup = async () => (await world.setup()).sandbox

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

const isCodexExec = (pid: number) => {
  const cmd = commandLine(pid) ?? ""
  return /(^|\/)codex(\.js)? /.test(cmd) && cmd.includes(" exec ")
}

const parentOf = (pid: number): number | undefined => {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}

/**
 * Live `codex exec` invocations of the sandbox, found by their command line; a codex process
 * whose parent is codex (a fork it makes before running a command) is part of its parent's.
 */
const codexProcesses = (sandbox: CliSandbox) =>
  processesWithEnv(SANDBOX_MARK_VAR, sandbox.mark).filter((pid) => {
    const parent = parentOf(pid)
    return isCodexExec(pid) && (parent === undefined || !isCodexExec(parent))
  })

describe("--max-running", () => {
  it("runs 5 tasks under a cap of 2: never more than 2 codex at once, all 5 finish", async () => {
    const sandbox = await setup()
    let most = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const now = codexProcesses(sandbox)
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

  it("a queued send waits RUNNING with waiting.for=slot; a SIGKILLed holder frees its slot", async () => {
    const sandbox = await setup()
    const first = await runCli(sandbox, ["start", ...FLAGS, "First.\nREPLY:one"])
    assert.strictEqual(first.code, 0, first.stderr)
    const waiter = first.stdout.trim()
    await waitForState(sandbox, waiter, "STOPPED")
    // The holder: a task whose turn runs a long sleep, under a cap of 1.
    const holder = await runCli(sandbox, [
      "--max-running",
      "1",
      "start",
      ...FLAGS,
      `Hold.\nRUN:${tokenSleep(sandbox)}\nREPLY:never`,
    ])
    assert.strictEqual(holder.code, 0, holder.stderr)
    const holderId = holder.stdout.trim()
    await waitFor("the holder's command", () =>
      tokenProcesses(sandbox).length > 0 ? true : undefined,
    )
    const sent = await runCli(sandbox, ["send", "--max-running", "1", waiter, "Again.\nREPLY:two"])
    assert.strictEqual(sent.code, 0, sent.stderr)
    const waiting = await waitForState(sandbox, waiter, "RUNNING", {
      extra: (m) => m.waiting?.for === "slot",
    })
    assert.strictEqual(waiting.meta.waiting?.for, "slot")
    const shown = await runCli(sandbox, ["status", "--json", waiter])
    assert.deepInclude(JSON.parse(shown.stdout), { state: "RUNNING" })
    assert.strictEqual(JSON.parse(shown.stdout).waiting?.for, "slot", shown.stdout)
    // Killed outright: no release runs, the ticket stays behind with a dead owner.
    const holderWorker = taskProcesses(sandbox, holderId).worker
    assert.isDefined(holderWorker)
    process.kill(holderWorker!, "SIGKILL")
    const done = await waitForState(sandbox, waiter, "STOPPED", { timeoutMs: 60_000 })
    assert.strictEqual(done.meta.last_result, "two")
    assert.isUndefined(done.meta.waiting)
  }, 120_000)

  it("refuses a --max-running that is not a whole number (exit 2)", async () => {
    const sandbox = await setup()
    const run = await runCli(sandbox, ["start", ...FLAGS, "x"], {
      env: { CODEX_TASKS_MAX_RUNNING: "two" },
    })
    assert.strictEqual(run.code, 2, run.stderr)
    assert.include(run.stderr, "CODEX_TASKS_MAX_RUNNING")
  })
})
