import { existsSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeEach, describe, it } from "vitest"
import {
  type CliSandbox,
  readLog,
  readTaskJson,
  runCli,
  taskProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"

// Issue 12 with the real codex against the scripted server: usage-limit waits, the stall
// watchdog, the turn timeout and the token budget.

const { setup } = e2eWorld()

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]
// The scripted resets are seconds away, and codex names them to the minute: a 1 s floor instead
// of 30 s once the minute has begun (worker/Worker.ts limitFloorMs).
const FLOOR = { CODEX_TASKS_LIMIT_WAIT_FLOOR: "1s" }

/** Every scenario runs on both backends (`start` reads CODEX_TASKS_BACKEND). */
const BACKENDS = ["exec", "app-server"] as const
let backend: (typeof BACKENDS)[number] = "exec"

const start = async (sandbox: CliSandbox, args: ReadonlyArray<string>, env = {}) => {
  const run = await runCli(sandbox, ["start", ...FLAGS, ...args], {
    env: { ...env, CODEX_TASKS_BACKEND: backend },
  })
  assert.strictEqual(run.code, 0, run.stderr)
  return run.stdout.trim()
}

// A worker writes the task's final state and then exits: give it a moment to be gone.
const nothingLeft = async (sandbox: CliSandbox, id: string) => {
  const left = () => {
    const p = taskProcesses(sandbox, id)
    return p.worker === undefined && p.marked.length === 0 && p.tokened.length === 0
  }
  await waitFor("the task's processes to be gone", () => (left() ? true : undefined), 10_000).catch(
    () => undefined,
  )
  assert.deepStrictEqual(taskProcesses(sandbox, id), { worker: undefined, marked: [], tokened: [] })
}

describe.each(BACKENDS)("%s backend", (which) => {
  beforeEach(() => {
    backend = which
  })

  describe("usage limits", () => {
    it("waits for the reset, then runs the prompt again and completes", async () => {
      const { server, sandbox } = await setup()
      const id = await start(
        sandbox,
        ["HTTP:429:usage_limit_reached~1\nRESET:2\nREPLY:done after the reset"],
        FLOOR,
      )
      const waiting = await waitFor("the usage-limit wait", async () => {
        const meta = await readTaskJson(sandbox, id).catch(() => undefined)
        return meta?.waiting?.for === "usage_limit" ? meta.waiting : undefined
      })
      assert.isString(waiting.until)
      assert.isTrue(existsSync(join(sandbox.storeRoot, ".usage-limit.json")), "the store knows")
      const done = await waitForState(sandbox, id, "STOPPED", { timeoutMs: 90_000 })
      assert.strictEqual(done.meta.last_outcome?.kind, "completed")
      assert.strictEqual(done.meta.last_result, "done after the reset")
      assert.isUndefined(done.meta.waiting)
      const log = await readLog(sandbox, id)
      const failed = log.filter((e) => e.type === "invocation_failed")
      assert.deepStrictEqual(
        failed.map((e) => e.error_class),
        ["UsageLimitReached"],
      )
      assert.isTrue(
        log.some((e) => e.type === "worker" && String(e.message).startsWith("usage limit reached")),
      )
      assert.deepStrictEqual(
        server.requests.map((r) => r.action),
        ["status:429", "message"],
      )
      await nothingLeft(sandbox, id)
    }, 120_000)

    it("a stop during the wait ends the task at once, nothing left running", async () => {
      const { sandbox } = await setup()
      const id = await start(sandbox, ["HTTP:429:usage_limit_reached\nRESET:3600"], FLOOR)
      await waitFor("the usage-limit wait", async () => {
        const meta = await readTaskJson(sandbox, id).catch(() => undefined)
        return meta?.waiting?.for === "usage_limit" ? true : undefined
      })
      const stop = await runCli(sandbox, ["stop", id])
      assert.strictEqual(stop.code, 0, stop.stderr)
      const stopped = await waitForState(sandbox, id, "STOPPED", { timeoutMs: 10_000 })
      assert.strictEqual(stopped.meta.last_outcome?.kind, "interrupted")
      assert.isUndefined(stopped.meta.waiting)
      await nothingLeft(sandbox, id)
    }, 60_000)
  })

  describe("stall watchdog and turn timeout", () => {
    it("--stall-timeout recovers a hung stream by a retry", async () => {
      const { server, sandbox } = await setup()
      const began = Date.now()
      // The 5 min floor of --stall-timeout (domain/policy.ts), lowered for a 3 s stall.
      const id = await start(sandbox, ["--stall-timeout", "3s", "HANG:first\nREPLY:recovered"], {
        CODEX_TASKS_STALL_FLOOR: "1s",
      })
      const done = await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
      const seconds = (Date.now() - began) / 1_000
      assert.strictEqual(done.meta.last_result, "recovered")
      const log = await readLog(sandbox, id)
      assert.deepStrictEqual(
        log.filter((e) => e.type === "retry").map((e) => e.error_class),
        ["Stalled"],
      )
      assert.deepStrictEqual(
        server.requests.map((r) => r.action),
        ["hang", "message"],
      )
      // 3 s stall + SIGINT grace + one backoff (2 s ±50 %) + the retried turn.
      assert.isBelow(seconds, 3 + 15, `recovered after ${seconds} s`)
      await nothingLeft(sandbox, id)
    }, 90_000)

    it("--turn-timeout ends a long command's turn (timed_out), and the queue goes on", async () => {
      const { sandbox } = await setup()
      const id = await start(sandbox, ["--turn-timeout", "4s", `RUN:${tokenSleep(sandbox)}`])
      const sent = await runCli(sandbox, ["send", id, "REPLY:second prompt ran"])
      assert.strictEqual(sent.code, 0, sent.stderr)
      const done = await waitForState(sandbox, id, "STOPPED", {
        timeoutMs: 60_000,
        extra: (m) => m.last_result === "second prompt ran",
      })
      assert.strictEqual(done.meta.last_outcome?.kind, "completed")
      const log = await readLog(sandbox, id)
      assert.isTrue(
        log.some((e) => e.type === "worker" && String(e.message).includes("--turn-timeout")),
      )
      await nothingLeft(sandbox, id)
    }, 90_000)

    it("--turn-timeout records timed_out and is not retried", async () => {
      const { server, sandbox } = await setup()
      const id = await start(sandbox, ["--turn-timeout", "3s", `RUN:${tokenSleep(sandbox)}`])
      const done = await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
      assert.strictEqual(done.meta.last_outcome?.kind, "timed_out")
      assert.strictEqual(server.requests.length, 1, "no retry")
      await nothingLeft(sandbox, id)
    }, 60_000)
  })

  describe("token budget", () => {
    it("drops the third prompt once the budget is spent; send says so unless it raises it", async () => {
      const { sandbox } = await setup()
      // Calibration: what one turn of this prompt costs with this codex and server.
      const first = "DELAY:3000\nREPLY:one"
      const probe = await start(sandbox, [first])
      const one = await waitForState(sandbox, probe, "STOPPED", { timeoutMs: 60_000 })
      const u = one.meta.usage
      assert.isDefined(u)
      const firstTurn = (u?.input_tokens ?? 0) + (u?.output_tokens ?? 0)

      const id = await start(sandbox, ["--max-tokens", String(firstTurn + 1), first])
      for (const p of ["REPLY:two", "REPLY:three"]) {
        const sent = await runCli(sandbox, ["send", id, p])
        assert.strictEqual(sent.code, 0, sent.stderr)
      }
      const done = await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
      assert.strictEqual(done.meta.last_outcome?.kind, "budget_exhausted")
      assert.strictEqual(done.meta.last_result, "two")
      const log = await readLog(sandbox, id)
      const dropped = log.filter((e) => e.type === "prompts_dropped")
      assert.deepStrictEqual(
        dropped.map((e) => [e.prompts, e.reason]),
        [[["REPLY:three"], "budget"]],
      )

      const refused = await runCli(sandbox, ["send", id, "REPLY:four"])
      assert.strictEqual(refused.code, 1)
      assert.match(refused.stderr, /token budget/)
      const raised = await runCli(sandbox, ["send", "--max-tokens", "100000000", id, "REPLY:four"])
      assert.strictEqual(raised.code, 0, raised.stderr)
      await waitForState(sandbox, id, "STOPPED", {
        timeoutMs: 60_000,
        extra: (m) => m.last_result === "four",
      })
      await nothingLeft(sandbox, id)
    }, 180_000)
  })
})
