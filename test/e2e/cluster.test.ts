import { spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { cliPath, runCli, taskProcesses, taskState, waitFor, waitForState } from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { fleetWorld } from "../support/fleet.js"
import { git } from "../support/git.js"
import { ChildTransport, callTool, structured, textOf } from "../support/mcpClient.js"

// Two runner processes (own host ids, stores, CODEX_HOMEs) driving the real codex against the
// scripted model server, and a client process: the whole fleet on this machine.
const world = fleetWorld()

const json = <A>(text: string): A => JSON.parse(text) as A

describe("a fleet of two runners", () => {
  it("starts, sends, follows, stops and archives tasks across two hosts from a client", async (ctx) => {
    const fleet = await world.setup()
    if (fleet === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const empty = await fleet.fleetCli(["doctor"])
    expect(empty.stdout).toMatch(/^✓ postgres: PostgreSQL \d+/m)
    expect(empty.stdout).toMatch(/^✗ schema version: no fleet tables yet/m)
    expect(empty.stdout).toMatch(/^✗ live runners: none\n {4}fix: start `codex-tasks runner/m)
    expect(empty.code).toBe(1)
    const alpha = await fleet.startRunner("alpha")
    const beta = await fleet.startRunner("beta")
    const healthy = await fleet.fleetCli(["doctor", "--json"])
    expect(healthy.code).toBe(0)
    const checks = json<{
      ok: boolean
      checks: Array<{ name: string; ok: boolean; detail: string }>
    }>(healthy.stdout)
    expect(checks.ok).toBe(true)
    expect(Object.fromEntries(checks.checks.map((c) => [c.name, c.detail]))).toMatchObject({
      "schema version": "1 (this codex-tasks: 1)",
      "live runners": "alpha (0 running), beta (0 running)",
      "message backlog": "none",
    })

    // start --wait: returns once the first turn ended on its host, with the task's JSON.
    const a = await fleet.fleetCli([
      "start",
      "--on",
      "alpha",
      "--wait",
      "--json",
      "--skip-git-repo-check",
      "REPLY:alpha done",
    ])
    expect(a.stderr).toBe("")
    expect(a.code).toBe(0)
    const waitedA = json<{ id: string; state: string; host: string; last_result: string }>(a.stdout)
    expect(waitedA).toMatchObject({ state: "STOPPED", host: "alpha", last_result: "alpha done" })
    const idA = waitedA.id
    const b = await fleet.fleetCli([
      "start",
      "--on",
      "beta",
      "--json",
      "--skip-git-repo-check",
      "DELAY:120000",
    ])
    expect(b.code).toBe(0)
    const placed = json<{ id: string; host: string }>(b.stdout)
    expect(placed.host).toBe("beta")
    const idB = placed.id
    // Each task lives on its own host's store.
    expect(readFileSync(join(alpha.sandbox.storeRoot, idA, "task.json"), "utf8")).toContain(idA)
    expect(readFileSync(join(beta.sandbox.storeRoot, idB, "task.json"), "utf8")).toContain(idB)

    const listed = await fleet.fleetCli(["ls", "--json"])
    expect(listed.code).toBe(0)
    const hosts = Object.fromEntries(
      json<Array<{ id: string; host: string }>>(listed.stdout).map((t) => [t.id, t.host]),
    )
    expect(hosts).toEqual({ [idA]: "alpha", [idB]: "beta" })
    const table = (await fleet.fleetCli(["ls"])).stdout.split("\n")
    expect(table[0]).toMatch(/^ID\s+Title\s+State\s+Host\s+Created At/)
    expect(table.find((l) => l.startsWith(idB))).toMatch(/\sRUNNING\s+beta\s/)

    await waitForState(alpha.sandbox, idA, "STOPPED", { timeoutMs: 60_000 })
    const sent = await fleet.fleetCli(["send", idA.slice(0, 13), "REPLY:second answer"])
    expect(sent.stdout).toBe(`Task ${idA}: prompt started a new turn.\n`)
    expect(sent.code).toBe(0)

    // log -f from the client follows the turn to its end; --json is the host's task.log, byte for byte.
    const followed = await fleet.fleetCli(["log", "-f", "--json", idA])
    expect(followed.code).toBe(0)
    const onHost = readFileSync(join(alpha.sandbox.storeRoot, idA, "task.log"), "utf8")
    expect(followed.stdout).toBe(onHost)
    expect(onHost).toContain("second answer")
    const human = await fleet.fleetCli(["log", idA])
    expect(human.stdout).toContain("second answer")

    const status = json<{ state: string; host: string; turns: number }>(
      (await fleet.fleetCli(["status", "--json", idA])).stdout,
    )
    expect(status).toMatchObject({ state: "STOPPED", host: "alpha", turns: 2 })
    // send --wait: the turn's final message once it ended on the host.
    const third = await fleet.fleetCli(["send", "--wait", idA, "REPLY:third answer"])
    expect(third.stderr).toBe("")
    expect(third.stdout).toBe("third answer\n")
    expect(third.code).toBe(0)
    const noWorktree = await fleet.fleetCli(["apply", idA])
    expect(noWorktree.stderr).toBe(
      `codex-tasks: Task ${idA} has no worktree (started without --worktree): its changes are already in its working directory (on host alpha).\n`,
    )
    expect(noWorktree.code).toBe(1)

    const notYet = await fleet.fleetCli(["status", "--wait", "--timeout", "1", idB])
    expect(notYet.stderr).toBe("codex-tasks: timed out after 1 s waiting for the task\n")
    expect(notYet.code).toBe(124)

    const stopped = await fleet.fleetCli(["stop", idB])
    expect(stopped.stdout).toBe(`Task ${idB} stopped.\n`)
    expect(stopped.code).toBe(0)
    expect((await taskState(beta.sandbox, idB)).state).toBe("STOPPED")

    const archived = await fleet.fleetCli(["archive", idA])
    expect(archived.code).toBe(0)
    expect(archived.stdout).toMatch(new RegExp(`^Task ${idA} archived to `))
    expect(json<Array<unknown>>((await fleet.fleetCli(["ls", "--json"])).stdout)).toHaveLength(1)

    const unknown = await fleet.fleetCli(["status", "nosuchtask"])
    expect(unknown.stderr).toBe('codex-tasks: no task matches "nosuchtask"\n')
    expect(unknown.code).toBe(1)

    // The database password is never printed, not even when it is wrong.
    const wrong = fleet.url.replace(fleet.password, "not-the-password")
    const refused = await fleet.fleetCli(["--cluster", wrong, "ls"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /^codex-tasks: the fleet's PostgreSQL \(postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/fleet_\w+\) failed: .*password authentication failed/,
    )
    const runnerRefused = await fleet.fleetCli([
      "--cluster",
      wrong,
      "runner",
      "--host-id",
      "gamma",
      "--listen",
      "127.0.0.1:1",
    ])
    expect(runnerRefused.stderr).toMatch(
      /^codex-tasks: the fleet's PostgreSQL \(postgres:\/\/\*\*\*@[^)]+\) failed: .*password authentication failed[^\n]*\n$/,
    )
    expect(runnerRefused.code).toBe(1)
    for (const text of [
      alpha.stderr(),
      beta.stderr(),
      refused.stderr,
      listed.stderr,
      runnerRefused.stderr,
    ]) {
      expect(text).not.toContain(fleet.password)
      expect(text).not.toContain("not-the-password")
    }
    expect(alpha.stderr()).toContain("runner alpha listening on 127.0.0.1:")
  }, 240_000)

  it("a runner killed mid-turn is restarted and takes its task back; each prompt runs once", async (ctx) => {
    const fleet = await world.setup()
    if (fleet === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const alpha = await fleet.startRunner("alpha")
    const prompts = ["first\nDELAY:6000\nREPLY:one", "second\nREPLY:two", "third\nREPLY:three"]

    const started = await fleet.fleetCli([
      "start",
      "--on",
      "alpha",
      "--skip-git-repo-check",
      prompts[0] as string,
    ])
    expect(started.code).toBe(0)
    const id = started.stdout.trim()
    const queued = await fleet.fleetCli(["send", id, prompts[1] as string])
    expect(queued.stdout).toBe(`Task ${id}: prompt queued at position 1.\n`)

    await alpha.kill9()
    // Sent while no runner serves the host: persisted in Postgres, answered by the next runner.
    const third = fleet.fleetCli(["send", id, prompts[2] as string])
    await new Promise((r) => setTimeout(r, 1_000))
    expect((await taskState(alpha.sandbox, id)).state).toBe("RUNNING")
    await alpha.restart()
    const receipt = await third
    expect(receipt.stderr).toBe("")
    expect(receipt.code).toBe(0)
    expect(receipt.stdout).toMatch(
      new RegExp(`^Task ${id}: prompt (queued at position \\d|started a new turn)\\.\\n$`),
    )

    await waitForState(alpha.sandbox, id, "STOPPED", {
      timeoutMs: 90_000,
      extra: (meta) => (meta.turns ?? 0) >= 3,
    })
    const status = json<{ state: string; turns: number; last_result: string; host: string }>(
      (await fleet.fleetCli(["status", "--json", id])).stdout,
    )
    expect(status).toMatchObject({
      state: "STOPPED",
      turns: 3,
      last_result: "three",
      host: "alpha",
    })
    // Exactly one model request per prompt: nothing ran twice after the crash.
    for (const prompt of prompts) {
      expect(fleet.server.requests.filter((r) => r.lastUserText === prompt)).toHaveLength(1)
    }
    const userMessages = readFileSync(join(alpha.sandbox.storeRoot, id, "task.log"), "utf8")
      .split("\n")
      .filter((l) => l.includes('"type":"user_message"'))
    expect(userMessages).toHaveLength(3)
    // No message is left behind in the engine's queue.
    await waitFor("the engine's queue to drain", async () => {
      const db = new pg.Client({ connectionString: fleet.url })
      await db.connect()
      const { rows } = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM cluster_messages WHERE processed = false AND kind = 0",
      )
      await db.end()
      return rows[0]?.n === "0" ? true : undefined
    })
  }, 240_000)

  it("a lost host: its tasks are marked, a prompt sent meanwhile runs once when it returns", async (ctx) => {
    const fleet = await world.setup()
    if (fleet === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const alpha = await fleet.startRunner("alpha")
    const started = await fleet.fleetCli([
      "start",
      "--on",
      "alpha",
      "--skip-git-repo-check",
      "REPLY:one",
    ])
    const id = started.stdout.trim()
    await waitForState(alpha.sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    expect((await fleet.fleetCli(["send", id, "DELAY:120000"])).code).toBe(0)
    await waitFor("the long turn's request", () =>
      fleet.server.requests.some((r) => r.lastUserText === "DELAY:120000") ? true : undefined,
    )

    // The machine goes away: the runner and the task's worker and codex with it.
    await alpha.kill9()
    const left = taskProcesses(alpha.sandbox, id)
    for (const pid of [left.worker, ...left.marked].filter((p) => p !== undefined)) {
      try {
        process.kill(pid, "SIGKILL")
      } catch (error) {
        // A codex child may end with its worker before we reach it: already gone is fine.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error
      }
    }
    const marked = await waitFor(
      "the task to be marked lost",
      async () => {
        const tasks = json<Array<{ id: string; host_lost_since?: string; state: string }>>(
          (await fleet.fleetCli(["ls", "--json"])).stdout,
        )
        const task = tasks.find((t) => t.id === id)
        return task?.host_lost_since === undefined ? undefined : task
      },
      60_000,
    )
    expect(marked.state).toBe("RUNNING")
    const row = (await fleet.fleetCli(["ls"])).stdout.split("\n").find((l) => l.startsWith(id))
    expect(row).toMatch(/RUNNING \(host unreachable since .+\)\s+alpha\s/)
    const status = json<{ host_lost_since?: string }>(
      (await fleet.fleetCli(["status", "--json", id])).stdout,
    )
    expect(status.host_lost_since).toBe(marked.host_lost_since)
    await waitFor(
      "host alpha's heartbeat to expire",
      async () => {
        const db = new pg.Client({ connectionString: fleet.url })
        await db.connect()
        const { rows } = await db.query<{ live: boolean }>(
          "SELECT heartbeat_at > now() - interval '15 seconds' AS live FROM codex_tasks_hosts WHERE host = 'alpha'",
        )
        await db.end()
        return rows[0]?.live === false ? true : undefined
      },
      60_000,
    )
    const refused = await fleet.fleetCli(["stop", id])
    expect(refused.stderr).toMatch(
      new RegExp(`Cannot stop task ${id}: host alpha is unreachable since `),
    )
    expect(refused.code).toBe(1)

    const accepted = await fleet.fleetCli(["send", id, "REPLY:after return"])
    expect(accepted.stdout).toBe(
      `Task ${id}: prompt accepted; host alpha has no live runner, it runs when the runner is back.\n`,
    )
    expect(accepted.code).toBe(0)

    await alpha.restart()
    await waitForState(alpha.sandbox, id, "STOPPED", {
      timeoutMs: 90_000,
      extra: (meta) => meta.last_result === "after return",
    })
    expect(
      fleet.server.requests.filter((r) => r.lastUserText === "REPLY:after return"),
    ).toHaveLength(1)
    const back = json<{ host_lost_since?: string; state: string }>(
      (await fleet.fleetCli(["status", "--json", id])).stdout,
    )
    expect(back).toMatchObject({ state: "STOPPED" })
    expect(back.host_lost_since).toBeUndefined()
  }, 240_000)
})

describe("a worktree task on a runner, from a client on another machine", () => {
  it("diff shows the runner's diff; apply lands the change in the client's checkout; --follow streams the host's log", async (ctx) => {
    const fleet = await world.setup()
    if (fleet === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const alpha = await fleet.startRunner("alpha")
    // The runner's repository (its directory), and the client's clone of it.
    const repo = alpha.sandbox.cwd
    git(repo, "init", "-q", "-b", "main")
    writeFileSync(join(repo, "README"), "base\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    const checkout = join(fleet.client.cwd, "checkout")
    git(fleet.client.cwd, "clone", "-q", repo, checkout)

    const started = await fleet.fleetCli([
      "start",
      "--on",
      "alpha",
      "--worktree",
      "-s",
      "workspace-write",
      "-t",
      "fleet change",
      "PATCH:f.txt:from the fleet\nREPLY:done",
    ])
    expect(started.stderr).toBe("")
    const id = started.stdout.trim()
    // status --wait from the client: it returns once the task's turn ended on its host.
    const waited = await fleet.fleetCli(["status", "--wait", "--json", id])
    expect(waited.stderr).toBe(`Task ${id} finished: STOPPED\n`)
    expect(waited.code).toBe(0)
    expect(json<{ state: string; host: string }>(waited.stdout)).toMatchObject({
      state: "STOPPED",
      host: "alpha",
    })
    expect((await taskState(alpha.sandbox, id)).state).toBe("STOPPED")

    // The client's diff is the runner's own, text and JSON.
    const local = await runCli(alpha.sandbox, ["diff", "--json", id])
    const remote = await fleet.fleetCli(["diff", "--json", id])
    expect(remote.code).toBe(0)
    expect(remote.stdout).toBe(local.stdout)
    expect(json<{ patch: string }>(remote.stdout).patch).toContain("+from the fleet")
    const text = await fleet.fleetCli(["diff", id])
    expect(text.stdout).toBe((await runCli(alpha.sandbox, ["diff", id])).stdout)
    expect((await fleet.fleetCli(["diff", "--stat", id])).stdout).toBe(
      "f.txt | +1 -0\n1 file(s) changed, +1 -0\n",
    )

    // apply: into the checkout of the directory it is typed in, on the client's machine.
    const applied = await fleet.fleetCli(["apply", id], { cwd: checkout })
    expect(applied.stderr).toBe("")
    expect(applied.stdout).toBe(`Applied 1 file(s) of task ${id} to ${checkout}:\nf.txt\n`)
    expect(readFileSync(join(checkout, "f.txt"), "utf8").trim()).toBe("from the fleet")
    expect(existsSync(join(repo, "f.txt"))).toBe(false)

    // A checkout without the task's base commit: refused, nothing changed.
    const other = join(fleet.client.cwd, "other")
    mkdirSync(other)
    git(other, "init", "-q", "-b", "main")
    writeFileSync(join(other, "README"), "unrelated\n")
    git(other, "add", ".")
    git(other, "commit", "-qm", "unrelated")
    const refused = await fleet.fleetCli(["apply", id], { cwd: other })
    expect(refused.stderr).toMatch(
      /^codex-tasks: The task started from commit [0-9a-f]{40}, which .+ does not have: fetch it first/,
    )
    expect(refused.code).toBe(1)
    expect(existsSync(join(other, "f.txt"))).toBe(false)

    // start --follow: the transcript from the host until the turn ends.
    const followed = await fleet.fleetCli([
      "start",
      "--on",
      "alpha",
      "--follow",
      "--skip-git-repo-check",
      "REPLY:followed to the end",
    ])
    expect(followed.stderr).toMatch(/^Task \S+ started\.\n$/)
    expect(followed.stdout).toContain("followed to the end")
    expect(followed.code).toBe(0)
    // send --follow: from this prompt on, not the turns before it.
    const followedId = /^Task (\S+) started/.exec(followed.stderr)?.[1] ?? ""
    const again = await fleet.fleetCli(["send", "--follow", followedId, "REPLY:and the second"])
    expect(again.stderr).toBe("")
    expect(again.stdout).toContain("and the second")
    expect(again.stdout).not.toContain("followed to the end")
    expect(again.code).toBe(0)
  }, 180_000)
})

describe("mcp --cluster", () => {
  it("serves the task tools over the fleet, with hosts, behind the same gate", async (ctx) => {
    const fleet = await world.setup()
    if (fleet === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    await fleet.startRunner("alpha")
    const child = spawn(process.execPath, [cliPath, "mcp"], {
      cwd: fleet.client.cwd,
      env: { ...fleet.client.env, CODEX_TASKS_CLUSTER: fleet.url },
      stdio: ["pipe", "pipe", "pipe"],
    })
    const transport = new ChildTransport(child)
    const client = new Client({ name: "codex-tasks-e2e", version: "1.0.0" })
    try {
      await client.connect(transport)
      const untilStopped = (id: string, result: string) =>
        waitFor(
          `task ${id} to stop with ${result}`,
          async () => {
            const task = structured<TaskView>(await callTool(client, "task_status", { taskId: id }))
            if (task.state === "STOPPED" && task.last_result === result) return task
            await new Promise((r) => setTimeout(r, 500))
            return undefined
          },
          120_000,
        )
      const started = structured<{ id: string; host: string }>(
        await callTool(client, "task_start", {
          prompt: "REPLY:over the fleet",
          skipGitRepoCheck: true,
        }),
      )
      expect(started.host).toBe("alpha")
      expect((await untilStopped(started.id, "over the fleet")).host).toBe("alpha")
      const sent = structured(
        await callTool(client, "task_send", { taskId: started.id, prompt: "REPLY:and again" }),
      )
      expect(sent).toMatchObject({ id: started.id, status: "started" })
      await untilStopped(started.id, "and again")
      // task_list reads the snapshots the runners keep in PostgreSQL (up to a heartbeat behind).
      const listed = await waitFor(
        "task_list to show the task STOPPED",
        async () => {
          const r = structured<{ tasks: Array<TaskView> }>(await callTool(client, "task_list", {}))
          const rows = r.tasks.map((t) => [t.id, t.host, t.state])
          if (rows.some((row) => row[2] === "STOPPED")) return rows
          await new Promise((wake) => setTimeout(wake, 500))
          return undefined
        },
        30_000,
      )
      expect(listed).toEqual([[started.id, "alpha", "STOPPED"]])
      const log = structured<{ content: string }>(
        await callTool(client, "task_log", { taskId: started.id }),
      )
      expect(log.content).toContain("and again")

      // The gate: what local mcp refuses, and every path (it is on the host, not here).
      const refused = await callTool(client, "task_start", {
        prompt: "REPLY:no",
        workingDir: "/tmp",
        sandbox: "danger-full-access",
      })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toContain("workingDir is refused: it is a path on the task's host")
      expect(textOf(refused)).toContain('sandbox: "danger-full-access" is refused')
      // A task started elsewhere (its options unknown here) takes no prompt from this server.
      const other = await fleet.fleetCli(["start", "--skip-git-repo-check", "REPLY:by hand"])
      const otherId = other.stdout.trim()
      const notOurs = await callTool(client, "task_send", { taskId: otherId, prompt: "REPLY:x" })
      expect(notOurs.isError).toBe(true)
      expect(textOf(notOurs)).toContain("it was not started through this server")
      // task_stop is not gated for a named task (as locally): it stops it on its host.
      const stopped = structured<{ reports: Array<{ id: string; status: string }> }>(
        await callTool(client, "task_stop", { taskId: otherId }),
      )
      expect(stopped.reports.map((r) => r.id)).toEqual([otherId])
      expect(["stopped", "not-running"]).toContain(stopped.reports[0]?.status)
      const all = await callTool(client, "task_stop", { all: true })
      expect(textOf(all)).toBe("all: true is not available with --cluster: name one task.")
      // task_diff: computed on the host, for the tasks this server started.
      const diff = await callTool(client, "task_diff", { taskId: started.id, stat: true })
      const cliDiff = await fleet.fleetCli(["diff", "--json", "--stat", started.id])
      expect(structured(diff)).toEqual(json(cliDiff.stdout))
      expect(textOf(diff)).toBe("No changes.")
      const otherDiff = await callTool(client, "task_diff", { taskId: otherId })
      expect(otherDiff.isError).toBe(true)
      expect(textOf(otherDiff)).toContain("it was not started through this server")
      const archived = structured<{ archived: number }>(
        await callTool(client, "task_archive", { taskId: started.id }),
      )
      expect(archived.archived).toBe(1)
    } finally {
      await transport.close()
    }
  }, 240_000)
})

/** The fields of a task object the MCP tests read. */
interface TaskView {
  readonly id: string
  readonly host: string
  readonly state: string
  readonly last_result: string | null
}

describe("fleet commands given bad input (no database needed)", () => {
  const world = e2eWorld()
  it("refuse with exit 2 and a clear message before connecting anywhere", async () => {
    const { sandbox } = await world.setup()
    const url = "postgres://codex:hunter2@127.0.0.1:9/none"
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [
        ["runner", "--host-id", "a"],
        "runner needs the fleet's PostgreSQL: --cluster URL or CODEX_TASKS_CLUSTER.",
      ],
      [
        ["--cluster", url, "runner", "--host-id", "a/b"],
        "--host-id wants letters, digits, '.', '_' or '-' (at most 63, no '/'), not 'a/b'.",
      ],
      [
        ["--cluster", url, "runner", "--host-id", "a", "--listen", "0.0.0.0:34431"],
        "--listen must name the address the other machines reach this runner at, not 0.0.0.0 (it is also the address the runner announces).",
      ],
      [
        ["--cluster", url, "runner", "--host-id", "a", "--listen", "nowhere"],
        "--listen wants ADDR:PORT (e.g. 10.0.0.5:34431), not 'nowhere'.",
      ],
      [["--cluster", url, "serve", "--port", "70000"], "--port must be 0 to 65535 (got 70000)."],
      [
        ["--cluster", url, "start", "--on-finish", "true", "hi"],
        "start --on-finish/--webhook is not available with --cluster.",
      ],
      [["--cluster", url, "stop", "--all"], "stop --all is not available with --cluster."],
      [["start", "--on", "alpha", "hi"], "--on names a host of a fleet: it needs --cluster."],
    ]
    for (const [args, message] of cases) {
      const r = await runCli(sandbox, args)
      expect(`${args.join(" ")}: ${r.code} ${r.stderr}`).toBe(
        `${args.join(" ")}: 2 codex-tasks: ${message}\n`,
      )
      expect(r.stdout).toBe("")
    }
    // mcp over a fleet it cannot reach: ends before serving, the password not shown.
    const unreachable = await runCli(sandbox, ["--cluster", url, "mcp"])
    expect(unreachable.stderr).toMatch(
      /^codex-tasks: the fleet's PostgreSQL \(postgres:\/\/\*\*\*@127\.0\.0\.1:9\/none\) failed: /,
    )
    expect(unreachable.stderr).not.toContain("hunter2")
    expect(unreachable.code).toBe(1)
    // serve likewise: no URL printed for a fleet it cannot read.
    const noServe = await runCli(sandbox, ["--cluster", url, "serve", "--port", "0"])
    expect(noServe.stderr).toMatch(
      /^codex-tasks: the fleet's PostgreSQL \(postgres:\/\/\*\*\*@127\.0\.0\.1:9\/none\) failed: /,
    )
    expect(noServe.stderr).not.toContain("hunter2")
    expect(`${noServe.code} ${noServe.stdout}`).toBe("1 ")
  }, 120_000)
})
