import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { describe, expect, it } from "vitest"
import { RUN_MARKER_VAR } from "../../src/processes/Processes.js"
import type { ModelServer, RecordedRequest } from "../../src/testing/index.js"
import {
  cliPath,
  commandLine,
  processesWithEnv,
  readRunRecord,
  taskDir,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { fleetWorld, type TestRunner } from "../support/fleet.js"
import { ChildTransport, callTool, structured, textOf } from "../support/mcpClient.js"

// Issue 22's app-server options over a fleet (issue 24): a client process with --cluster drives
// `codex app-server` on a runner (its own host id, store and CODEX_HOME) against the scripted
// model server. One PostgreSQL and one runner for the whole file.
const world = fleetWorld({ perFile: true })

type Fleet = NonNullable<Awaited<ReturnType<typeof world.setup>>>
let shared: Promise<{ fleet: Fleet; alpha: TestRunner } | undefined> | undefined
const fleetOnce = () => {
  shared ??= (async () => {
    const fleet = await world.setup()
    if (fleet === undefined) return undefined
    return { fleet, alpha: await fleet.startRunner("alpha") }
  })()
  return shared
}

const json = <A>(text: string): A => JSON.parse(text) as A

const threadRequests = (server: ModelServer, id: string): ReadonlyArray<RecordedRequest> =>
  server.requests.filter(
    (r) => (r.body as { prompt_cache_key?: unknown } | undefined)?.prompt_cache_key === id,
  )

/** What the commands codex ran gave back, as the request carries them to the model. */
const commandOutputs = (r: RecordedRequest | undefined): string =>
  ((r?.body as { input?: ReadonlyArray<{ type?: string; output?: unknown }> })?.input ?? [])
    .filter((item) => item.type === "function_call_output")
    .map((item) => JSON.stringify(item.output))
    .join("\n")

// A file an approved command makes, named per attempt (a retried test must not find the last one's).
const fileNamed = (what: string) => `${what}-${randomBytes(4).toString("hex")}.txt`

const ASKING = ["--backend", "app-server", "--approvals", "ask", "-s", "workspace-write"]

describe("the app-server options over a fleet", () => {
  it("start --approvals ask on a runner: status shows the wait, approve runs the command, decline does not", async (ctx) => {
    const got = await fleetOnce()
    if (got === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const { fleet, alpha } = got
    const APPROVED = fileNamed("approved")
    const DECLINED = fileNamed("declined")
    const waitingStatus = (id: string) =>
      waitFor(
        `task ${id} to wait for approval`,
        async () => {
          const status = await fleet.fleetCli(["status", id])
          if (status.stdout.includes("Waiting: for approval")) return status.stdout
          await new Promise((r) => setTimeout(r, 500))
          return undefined
        },
        90_000,
      )
    // As locally, codex exec cannot ask: refused by the host, a usage error (exit 2).
    const onExec = await fleet.fleetCli([
      "start",
      "--approvals",
      "ask",
      "--skip-git-repo-check",
      "x",
    ])
    expect(onExec.stderr).toBe(
      "codex-tasks: --approvals ask needs --backend app-server (codex exec cannot ask for approvals).\n",
    )
    expect(onExec.code).toBe(2)
    const started = await fleet.fleetCli([
      "start",
      ...ASKING,
      "--skip-git-repo-check",
      `Make a file.\nRUN:touch ${APPROVED} && echo fleet-approved-output\nREPLY:made it`,
    ])
    expect(started.code, started.stderr).toBe(0)
    const id = started.stdout.trim()
    const shown = await waitingStatus(id)
    expect(shown).toMatch(new RegExp(`^Waiting: for approval: .*touch ${APPROVED}`, "m"))
    expect(shown).toMatch(/^Host: +alpha/m)
    expect(existsSync(join(alpha.sandbox.cwd, APPROVED)), "not before the answer").toBe(false)

    const approve = await fleet.fleetCli(["approve", id])

    expect(approve.stderr).toBe("")
    expect(approve.stdout).toBe(`Task ${id}: approved.\n`)
    expect(approve.code).toBe(0)
    const done = await waitForState(alpha.sandbox, id, "STOPPED", { timeoutMs: 90_000 })
    expect(done.meta.last_result).toBe("made it")
    expect(existsSync(join(alpha.sandbox.cwd, APPROVED)), "the command ran").toBe(true)
    const afterApproval = threadRequests(fleet.server, id)
    expect(commandOutputs(afterApproval.at(-1))).toContain("fleet-approved-output")
    // Nothing waits any more: a new approve is refused as a local one is (exit 1).
    const again = await fleet.fleetCli(["approve", id])
    expect(again.stderr).toContain(`Task ${id} is not waiting for an approval or an answer.`)
    expect(again.code).toBe(1)

    // A second request, from the next prompt: declined, with a message codex gets.
    const sent = await fleet.fleetCli([
      "send",
      id,
      `Another.\nRUN:touch ${DECLINED} && echo fleet-declined-output\nREPLY:went on`,
    ])
    expect(sent.code, sent.stderr).toBe(0)
    expect(await waitingStatus(id)).toContain(`touch ${DECLINED}`)

    const decline = await fleet.fleetCli(["decline", id, "--message", "not on this host"])

    expect(decline.stderr).toBe("")
    expect(decline.stdout).toBe(`Task ${id}: declined; the message goes to codex.\n`)
    expect(decline.code).toBe(0)
    const ended = await waitFor(
      "the declined turn to end",
      async () => {
        const status = json<{ state: string; turns: number }>(
          (await fleet.fleetCli(["status", "--json", id])).stdout,
        )
        return status.state === "STOPPED" && status.turns >= 2 ? status : undefined
      },
      90_000,
    )
    expect(ended.state).toBe("STOPPED")
    expect(existsSync(join(alpha.sandbox.cwd, DECLINED)), "the command did not run").toBe(false)
    const requests = threadRequests(fleet.server, id)
    expect(requests.some((r) => commandOutputs(r).includes("fleet-declined-output"))).toBe(false)
    expect(requests.some((r) => r.userTexts.includes("not on this host"))).toBe(true)
  }, 240_000)

  it("send --steer --cluster joins the running turn (the model's next request has it, one turn); send --backend switches", async (ctx) => {
    const got = await fleetOnce()
    if (got === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const { fleet, alpha } = got
    const started = await fleet.fleetCli([
      "start",
      "--backend",
      "app-server",
      "--dangerously-bypass-approvals-and-sandbox",
      "--skip-git-repo-check",
      "Work.\nRUN:sleep 12\nREPLY:unsteered",
    ])
    expect(started.code, started.stderr).toBe(0)
    const id = started.stdout.trim()
    const runId = await waitFor(
      "the run record",
      () => readRunRecord(taskDir(alpha.sandbox, id)),
      60_000,
    )
    await waitFor(
      "`sleep 12` to run",
      () => processesWithEnv(RUN_MARKER_VAR, runId).find((pid) => commandLine(pid) === "sleep 12"),
      60_000,
    )

    const steer = await fleet.fleetCli(["send", "--steer", id, "REPLY:steered answer"])

    expect(steer.stderr).toBe("")
    expect(steer.stdout).toBe(`Task ${id}: prompt joined the running turn.\n`)
    expect(steer.code).toBe(0)
    const done = await waitForState(alpha.sandbox, id, "STOPPED", { timeoutMs: 90_000 })
    expect(done.meta.turns, "the steer made no turn of its own").toBe(1)
    expect(done.meta.last_result).toBe("steered answer")
    const requests = threadRequests(fleet.server, id)
    expect(requests.map((r) => r.lastUserText)).toEqual([
      "Work.\nRUN:sleep 12\nREPLY:unsteered",
      "REPLY:steered answer",
    ])
    // send --backend over the fleet: the next turn, and every later one, on codex exec.
    const onExec = await fleet.fleetCli(["send", "--backend", "exec", id, "REPLY:on exec"])
    expect(onExec.stdout).toBe(`Task ${id}: prompt started a new turn.\n`)
    expect(onExec.code).toBe(0)
    const switched = await waitForState(alpha.sandbox, id, "STOPPED", {
      timeoutMs: 90_000,
      extra: (m) => m.last_result === "on exec",
    })
    expect(switched.meta.exec?.backend).toBe("exec")
    expect(switched.meta.turns).toBe(2)
  }, 180_000)

  it("mcp --cluster: task_approve answers on the task's host, behind the gate; task_send steers", async (ctx) => {
    const got = await fleetOnce()
    if (got === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const { fleet, alpha } = got
    const MCP_APPROVED = fileNamed("mcp-approved")
    // MCP's task_start has no approvals argument: the task comes from the CLI, so a server
    // answers for it only with --allow-unsafe (without, only for the tasks it started).
    const started = await fleet.fleetCli([
      "start",
      ...ASKING,
      "--skip-git-repo-check",
      `Over MCP.\nRUN:touch ${MCP_APPROVED}\nREPLY:mcp done`,
    ])
    expect(started.code, started.stderr).toBe(0)
    const id = started.stdout.trim()
    const connect = async (flags: ReadonlyArray<string>) => {
      const child = spawn(process.execPath, [cliPath, "mcp", ...flags], {
        cwd: fleet.client.cwd,
        env: { ...fleet.client.env, CODEX_TASKS_CLUSTER: fleet.url },
        stdio: ["pipe", "pipe", "pipe"],
      })
      const transport = new ChildTransport(child)
      const client = new Client({ name: "codex-tasks-e2e", version: "1.0.0" })
      await client.connect(transport)
      return { client, transport }
    }
    const gated = await connect([])
    try {
      await waitFor(
        "the task to wait for approval",
        async () => {
          const task = structured<{ waiting: { for: string } | null }>(
            await callTool(gated.client, "task_status", { taskId: id }),
          )
          if (task.waiting?.for === "approval") return true
          await new Promise((r) => setTimeout(r, 500))
          return undefined
        },
        90_000,
      )
      const refused = await callTool(gated.client, "task_decline", { taskId: id })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toContain(
        `task_decline to task ${id} is refused: it was not started through this server`,
      )
    } finally {
      await gated.transport.close()
    }
    const { client, transport } = await connect(["--allow-unsafe"])
    try {
      const approved = await callTool(client, "task_approve", { taskId: id })

      expect(textOf(approved)).toBe(`Task ${id}: approved.`)
      expect(structured(approved)).toEqual({ id, decision: "accept" })
      const done = await waitForState(alpha.sandbox, id, "STOPPED", { timeoutMs: 90_000 })
      expect(done.meta.last_result).toBe("mcp done")
      expect(existsSync(join(alpha.sandbox.cwd, MCP_APPROVED))).toBe(true)
      // A steer with no turn in flight is queued (here: starts the next turn), and says so.
      const steered = await callTool(client, "task_send", {
        taskId: id,
        prompt: "REPLY:after the approval",
        steer: true,
      })
      expect(textOf(steered)).toBe(
        `Task ${id}: no turn in flight to join; prompt started a new turn.`,
      )
      expect(structured(steered)).toMatchObject({ id, status: "started" })
      const next = await waitForState(alpha.sandbox, id, "STOPPED", {
        timeoutMs: 90_000,
        extra: (m) => m.last_result === "after the approval",
      })
      expect(next.meta.turns).toBe(2)
    } finally {
      await transport.close()
    }
  }, 180_000)
})
