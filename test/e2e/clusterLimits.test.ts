import { readFileSync } from "node:fs"
import { join } from "node:path"
import { MachineId, Snowflake } from "@effect/cluster"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { taskProcesses, waitFor, waitForState } from "../support/cli.js"
import { codexExecProcesses } from "../support/codexProcesses.js"
import { fleetWorld, type TestRunner } from "../support/fleet.js"

// Issue 24's limits across a fleet: two runner processes (own host ids, stores, CODEX_HOMEs)
// driving the real codex against the scripted model server, one fleet for the whole file.
const world = fleetWorld({ perFile: true })

const json = <A>(text: string): A => JSON.parse(text) as A

type Fleet = NonNullable<Awaited<ReturnType<typeof world.setup>>>
let shared: Promise<{ fleet: Fleet; alpha: TestRunner; beta: TestRunner } | undefined> | undefined
// One fleet for the file: beta's own --max-running 1 caps its machine.
const fleetOnce = () => {
  shared ??= (async () => {
    const fleet = await world.setup()
    if (fleet === undefined) return undefined
    const env = { CODEX_TASKS_LIMIT_WAIT_FLOOR: "1s" }
    // Both at once on the fresh database: one of them used to hang or fail while the engine
    // created its tables (cluster/startupLock.ts).
    const [alpha, beta] = await Promise.all([
      fleet.startRunner("alpha", { env }),
      fleet.startRunner("beta", { env, args: ["--max-running", "1"] }),
    ])
    return { fleet, alpha, beta }
  })()
  return shared
}

const FLAGS = ["--skip-git-repo-check"]

/** Samples the fleet's running codex invocations until stopped: the peaks, in all and on beta. */
const watchCodex = (alpha: TestRunner, beta: TestRunner) => {
  const seen = { peak: 0, peakBeta: 0 }
  let polling = true
  const loop = (async () => {
    while (polling) {
      const onBeta = codexExecProcesses(beta.sandbox).length
      seen.peak = Math.max(seen.peak, codexExecProcesses(alpha.sandbox).length + onBeta)
      seen.peakBeta = Math.max(seen.peakBeta, onBeta)
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  return {
    seen,
    reset: () => {
      seen.peak = 0
      seen.peakBeta = 0
    },
    stop: async () => {
      polling = false
      await loop
      return seen
    },
  }
}

describe("limits across a fleet of two runners", () => {
  it("--max-running 2 over two runners: never more than two codex at once; a waiting send shows it, a dead holder frees its slot", async (ctx) => {
    const got = await fleetOnce()
    if (got === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const { fleet, alpha, beta } = got
    const limited = (args: ReadonlyArray<string>) =>
      fleet.fleetCli(["--max-running", "2", ...args], { timeoutMs: 120_000 })
    const first = await fleet.fleetCli(["start", "--on", "alpha", ...FLAGS, "REPLY:first turn"])
    expect(first.code, first.stderr).toBe(0)
    const existing = first.stdout.trim()
    await waitForState(alpha.sandbox, existing, "STOPPED", { timeoutMs: 60_000 })

    // Five starts at once, three on alpha and two on beta (whose runner has --max-running 1).
    const codex = watchCodex(alpha, beta)
    const hosts = ["alpha", "alpha", "alpha", "beta", "beta"]
    const started = await Promise.all(
      hosts.map((host, i) =>
        limited(["start", "--on", host, ...FLAGS, `DELAY:2500\nREPLY:task ${i}`]),
      ),
    )
    for (const s of started) expect(s.code, s.stderr).toBe(0)
    for (const [i, s] of started.entries()) {
      const on = hosts[i] === "alpha" ? alpha : beta
      const done = await waitForState(on.sandbox, s.stdout.trim(), "STOPPED", { timeoutMs: 90_000 })
      expect(done.meta.last_result).toBe(`task ${i}`)
    }
    expect({ ...codex.seen }).toEqual({ peak: 2, peakBeta: 1 })

    // Two holders take both slots: a prompt sent under the same limit waits, and shows it.
    codex.reset()
    const holders = await Promise.all(
      ["alpha", "beta"].map((host) =>
        limited(["start", "--on", host, ...FLAGS, "DELAY:600000\nREPLY:never"]),
      ),
    )
    for (const h of holders) expect(h.code, h.stderr).toBe(0)
    const [holderA, holderB] = holders.map((h) => h.stdout.trim()) as [string, string]
    await waitFor("both holders' codex", () => (codex.seen.peak >= 2 ? true : undefined), 60_000)
    const sent = await limited(["send", existing, "REPLY:sent under the limit"])
    expect(sent.code, sent.stderr).toBe(0)
    const waiting = await waitFor(
      "the sent prompt to wait for a fleet slot",
      async () => {
        const status = await fleet.fleetCli(["status", "--json", existing])
        const task = json<{ state: string; host: string; waiting: { for: string } | null }>(
          status.stdout,
        )
        return task.waiting?.for === "slot" ? task : undefined
      },
      60_000,
    )
    expect(waiting).toMatchObject({ state: "RUNNING", host: "alpha" })
    const doctor = await fleet.fleetCli(["doctor"])
    expect(doctor.stdout).toMatch(/^✓ fleet run slots: 2 held/m)
    const listed = await fleet.fleetCli(["ls"])
    expect(listed.stdout.split("\n").find((l) => l.startsWith(existing))).toMatch(/RUNNING/)

    // The holder on alpha dies with its codex (as with its host): PostgreSQL frees its slot.
    const dead = taskProcesses(alpha.sandbox, holderA)
    for (const pid of [dead.worker, ...dead.marked])
      if (pid !== undefined) process.kill(pid, "SIGKILL")
    const after = await waitForState(alpha.sandbox, existing, "STOPPED", { timeoutMs: 60_000 })
    expect(after.meta.last_result).toBe("sent under the limit")
    expect(after.meta.waiting).toBeUndefined()
    const stopped = await fleet.fleetCli(["stop", holderB])
    expect(stopped.code, stopped.stderr).toBe(0)
    const { peak } = await codex.stop()
    expect(peak).toBe(2)
    const log = readFileSync(`${alpha.sandbox.storeRoot}/${existing}/task.log`, "utf8")
    expect(log).toMatch(/waiting for a fleet-wide run slot \(2 of 2 held across the fleet/)
    // Each prompt but the holders' reached the model once.
    const answered = fleet.server.requests.filter((r) => r.action === "message")
    expect(answered).toHaveLength(7)
  }, 240_000)

  it("a usage limit met on alpha makes a task on beta wait until the reset, then run", async (ctx) => {
    const got = await fleetOnce()
    if (got === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const { fleet, alpha, beta } = got
    const b = await fleet.fleetCli(["start", "--on", "beta", ...FLAGS, "REPLY:beta first"])
    expect(b.code, b.stderr).toBe(0)
    const idB = b.stdout.trim()
    await waitForState(beta.sandbox, idB, "STOPPED", { timeoutMs: 60_000 })

    // codex names a reset to the minute, and that minute is what the store records: aim the
    // scripted reset just past a minute boundary at least 15 s away, so the reset is that minute.
    const now = Date.now()
    const reset = Math.ceil((now + 15_000) / 60_000) * 60_000
    const seconds = Math.ceil((reset - now) / 1000) + 3
    const a = await fleet.fleetCli([
      "start",
      "--on",
      "alpha",
      ...FLAGS,
      `HTTP:429:usage_limit_reached~1\nRESET:${seconds}\nREPLY:alpha after the reset`,
    ])
    expect(a.code, a.stderr).toBe(0)
    const idA = a.stdout.trim()
    await waitFor(
      "beta's store to learn alpha's reset",
      () => {
        try {
          const record = json<{ until: string }>(
            readFileSync(join(beta.sandbox.storeRoot, ".usage-limit.json"), "utf8"),
          )
          return Date.parse(record.until) === reset ? true : undefined
        } catch {
          return undefined
        }
      },
      30_000,
    )
    const sent = await fleet.fleetCli(["send", idB, "REPLY:beta after the reset"])
    expect(sent.code, sent.stderr).toBe(0)
    const waiting = await waitFor(
      "beta's task to wait for the usage limit",
      async () => {
        const status = await fleet.fleetCli(["status", "--json", idB])
        const task = json<{ host: string; waiting: { for: string; until?: string } | null }>(
          status.stdout,
        )
        return task.waiting?.for === "usage_limit" ? task : undefined
      },
      30_000,
    )
    expect(waiting.host).toBe("beta")
    expect(Date.parse(waiting.waiting?.until ?? "")).toBeGreaterThanOrEqual(reset)
    const human = await fleet.fleetCli(["status", idB])
    expect(human.stdout).toMatch(/usage limit/i)

    const done = await waitForState(beta.sandbox, idB, "STOPPED", { timeoutMs: 150_000 })
    expect(done.meta.last_result).toBe("beta after the reset")
    const ran = fleet.server.requests.find((r) => r.lastUserText === "REPLY:beta after the reset")
    expect(ran?.receivedAt ?? 0).toBeGreaterThanOrEqual(reset)
    const logB = readFileSync(join(beta.sandbox.storeRoot, idB, "task.log"), "utf8")
    expect(logB).toContain("another task hit the usage limit: waiting until")
    const doneA = await waitForState(alpha.sandbox, idA, "STOPPED", { timeoutMs: 150_000 })
    expect(doneA.meta.last_result).toBe("alpha after the reset")
  }, 240_000)

  it("doctor --cluster fails on a message waiting past 2 minutes for a live host, and names its runner", async (ctx) => {
    const got = await fleetOnce()
    if (got === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const { fleet } = got
    const healthy = await fleet.fleetCli(["doctor"])
    expect(healthy.stdout).toMatch(/^✓ message backlog: none$/m)
    expect(healthy.stdout).toMatch(/^✓ fleet run slots: 0 held/m)
    expect(healthy.stdout).toMatch(/^✓ usage limit: no reset pending$/m)
    // A message the engine never consumes (Effect-TS/effect#6248), 5 minutes old, for a shard of
    // host alpha that no runner holds (alpha has 8): what a stalled runner leaves behind.
    const client = new pg.Client({ connectionString: fleet.url })
    await client.connect()
    const id = Snowflake.make({
      timestamp: Date.now() - 5 * 60_000,
      machineId: MachineId.make(7),
      sequence: 0,
    })
    try {
      await client.query(
        `INSERT INTO cluster_messages (id, message_id, shard_id, entity_type, entity_id, kind, tag, payload, request_id)
         VALUES ($1, $2, 'alpha:99', 'CodexTasksTask', 'alpha/stalled', 0, 'Status', '{}', $1)`,
        [String(id), `stalled-${id}`],
      )
      const stalled = await fleet.fleetCli(["doctor"])
      expect(stalled.code).toBe(1)
      expect(stalled.stdout).toMatch(
        /^✗ message backlog: 1 message\(s\) for live hosts, the oldest \(host alpha\) 30\d s old$/m,
      )
      expect(stalled.stdout).toMatch(/fix: restart the runner of host alpha/)
    } finally {
      await client.query("DELETE FROM cluster_messages WHERE id = $1", [String(id)])
      await client.end()
    }
  }, 60_000)
})
