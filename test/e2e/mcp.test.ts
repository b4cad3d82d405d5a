import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import {
  type ClientRequest,
  EmptyResultSchema,
  ErrorCode,
  McpError,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox, runCli, storeEntries, taskProcesses, waitFor } from "../support/cli.js"
import { callTool, connectMcp, type McpSession, structured, textOf } from "../support/mcpClient.js"

// `codex-tasks mcp` as a child process, driven by the official SDK client, starting the real
// codex against the scripted model server. Each test has its own server, sandbox and store.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async (flags: ReadonlyArray<string> = []) => {
  const model = await startModelServer()
  cleanups.push(() => model.close())
  const sandbox = await makeCliSandbox(model)
  cleanups.push(sandbox.dispose)
  const session = await connectMcp(sandbox, flags)
  cleanups.push(async () => {
    session.transport.child.kill("SIGKILL")
    await session.transport.ended
  })
  return { sandbox, session }
}

type Task = { readonly id: string; readonly state: string; readonly last_result: string | null }

const startTask = async (client: Client, prompt: string, extra: Record<string, unknown> = {}) => {
  const r = await callTool(client, "task_start", { prompt, skipGitRepoCheck: true, ...extra })
  return structured<{ id: string }>(r).id
}

const status = async (client: Client, id: string) =>
  structured<Task>(await callTool(client, "task_status", { taskId: id }))

const waitForState = (client: Client, id: string, state: string, timeoutMs = 60_000) =>
  waitFor(
    `task ${id} to be ${state}`,
    async () => {
      const t = await status(client, id)
      return t.state === state ? t : undefined
    },
    timeoutMs,
  )

/** The inotify watches a process holds (Linux): one per watched directory. */
const inotifyWatches = (pid: number): number => {
  let n = 0
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8")
      n += info.split("\n").filter((l) => l.startsWith("inotify wd:")).length
    } catch {
      // closed meanwhile
    }
  }
  return n
}

/** Every stdout line is one JSON-RPC 2.0 message. */
const assertOnlyJsonRpc = (session: McpSession) => {
  assert.isAbove(session.transport.stdoutLines.length, 0)
  for (const line of session.transport.stdoutLines) {
    const parsed = JSON.parse(line) as { jsonrpc?: unknown }
    assert.strictEqual(parsed.jsonrpc, "2.0", line)
  }
}

describe("codex-tasks mcp", () => {
  it("lists its tools with schemas and annotations, and exits cleanly on stdin EOF", async () => {
    const { session } = await setup()
    const { tools } = await session.client.listTools()
    assert.sameMembers(
      tools.map((t) => t.name),
      [
        "task_start",
        "task_send",
        "task_status",
        "task_list",
        "task_log",
        "task_diff",
        "task_stop",
        "task_archive",
        "task_approve",
        "task_decline",
      ],
    )
    for (const t of tools) {
      assert.strictEqual(t.inputSchema.type, "object", t.name)
      assert.strictEqual(t.outputSchema?.type, "object", t.name)
      assert.isBoolean(t.annotations?.readOnlyHint, t.name)
      assert.isBoolean(t.annotations?.destructiveHint, t.name)
      assert.isBoolean(t.annotations?.idempotentHint, t.name)
    }
    const byName = new Map(tools.map((t) => [t.name, t]))
    assert.deepInclude(byName.get("task_start")?.inputSchema.required ?? [], "prompt")
    assert.isTrue(byName.get("task_status")?.annotations?.readOnlyHint)
    assert.isTrue(byName.get("task_stop")?.annotations?.destructiveHint)
    assert.deepInclude(session.client.getServerCapabilities()?.resources ?? {}, {
      subscribe: true,
      listChanged: true,
    })
    const started = Date.now()
    await session.transport.close()
    const ended = await session.transport.ended
    assert.strictEqual(ended.code, 0, session.transport.stderr)
    assert.isBelow(Date.now() - started, 5_000)
    assertOnlyJsonRpc(session)
  })

  it("starts, follows, feeds, stops and archives a task; subscriptions see it finish", async () => {
    const { sandbox, session } = await setup()
    const { client } = session
    const updates: Array<string> = []
    let listChanges = 0
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      listChanges++
    })
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      const read = await client.readResource({ uri: n.params.uri })
      const first = read.contents[0]
      if (first !== undefined && "text" in first) updates.push(JSON.parse(first.text).state)
    })

    const id = await startTask(client, "DELAY:1500\nREPLY:first answer", { title: "mcp e2e" })
    await client.subscribeResource({ uri: `task://${id}/status` })
    // The subscription reports the turn's end without the client asking.
    await waitFor("an update showing STOPPED", () => updates.includes("STOPPED") || undefined)
    const done = await status(client, id)
    assert.strictEqual(done.state, "STOPPED")
    assert.strictEqual(done.last_result, "first answer")
    await waitFor("list_changed for the new task", () => listChanges > 0 || undefined, 10_000)

    const { resources } = await client.listResources()
    assert.includeMembers(
      resources.map((r) => r.uri),
      [`task://${id}/status`, `task://${id}/log`],
    )
    const logResource = await client.readResource({ uri: `task://${id}/log` })
    assert.include(JSON.stringify(logResource.contents), "first answer")

    const jsonl = structured<{ content: string; nextOffset: number; events: number }>(
      await callTool(client, "task_log", { taskId: id, format: "jsonl" }),
    )
    const entries = jsonl.content
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string })
    assert.strictEqual(entries.length, jsonl.events)
    assert.include(
      entries.map((e) => e.type),
      "turn.completed",
    )
    const text = await callTool(client, "task_log", { taskId: id, tail: 3 })
    assert.include(textOf(text), "first answer")

    const sent = structured<{ status: string }>(
      await callTool(client, "task_send", {
        taskId: id,
        prompt: "DELAY:500\nREPLY:second answer",
      }),
    )
    assert.strictEqual(sent.status, "started")
    // Only what came after the first turn, waiting for it to arrive.
    const next = structured<{ content: string; timedOut: boolean; events: number }>(
      await callTool(client, "task_log", {
        taskId: id,
        since: jsonl.nextOffset,
        waitSeconds: 30,
        format: "jsonl",
      }),
    )
    assert.isFalse(next.timedOut)
    assert.isAbove(next.events, 0)
    assert.notInclude(next.content, "first answer")
    const second = await waitForState(client, id, "STOPPED")
    assert.strictEqual(second.last_result, "second answer")

    const stop = await callTool(client, "task_stop", { taskId: id })
    assert.notStrictEqual(stop.isError, true)
    assert.strictEqual(textOf(stop), `Task ${id} is not running.`)

    const before = listChanges
    const archived = await callTool(client, "task_archive", { taskId: id })
    assert.match(textOf(archived), new RegExp(`^Task ${id} archived to `))
    assert.notInclude(storeEntries(sandbox), id)
    assert.strictEqual((await status(client, id)).state, "ARCHIVED")
    await waitFor("list_changed for the archived task", () => listChanges > before || undefined)
    const again = await callTool(client, "task_send", { taskId: id, prompt: "more" })
    assert.isTrue(again.isError)
    assert.strictEqual(textOf(again), `Task ${id} is archived.`)
    assertOnlyJsonRpc(session)
  })

  it("refuses all: true without --allow-unsafe", async () => {
    const { session } = await setup()
    for (const tool of ["task_stop", "task_archive"]) {
      const r = await callTool(session.client, tool, { all: true })
      assert.isTrue(r.isError, tool)
      assert.include(textOf(r), "--allow-unsafe", tool)
    }
  })

  it("confines tasks to its directory and the --allow-dir trees; a missing --allow-dir or a local --allow-repo is exit 2", async () => {
    const model = await startModelServer()
    cleanups.push(() => model.close())
    const sandbox = await makeCliSandbox(model)
    cleanups.push(sandbox.dispose)
    const extra = realpathSync(mkdtempSync(join(tmpdir(), "ct-e2e-allowed-")))
    cleanups.push(async () => rmSync(extra, { recursive: true, force: true }))
    const bad = await runCli(sandbox, ["mcp", "--allow-dir", join(extra, "missing")])
    assert.strictEqual(bad.code, 2, bad.stderr)
    assert.include(bad.stderr, `--allow-dir ${join(extra, "missing")} is not a directory.`)
    for (const repo of [extra, "ext::sh -c id", "https://github.com/me/../other"]) {
      const notNetwork = await runCli(sandbox, ["mcp", "--allow-repo", repo])
      assert.strictEqual(notNetwork.code, 2, notNetwork.stderr)
      assert.include(notNetwork.stderr, `--allow-repo ${repo} is not a network repository address`)
    }

    const session = await connectMcp(sandbox, ["--allow-dir", extra])
    cleanups.push(async () => {
      session.transport.child.kill("SIGKILL")
      await session.transport.ended
    })
    const { client } = session
    for (const args of [{ workingDir: tmpdir() }, { sandbox: "danger-full-access" }]) {
      const r = await callTool(client, "task_start", { prompt: "REPLY:no", ...args })
      assert.isTrue(r.isError, JSON.stringify(args))
      assert.include(textOf(r), "the server was not started with --allow-unsafe")
    }
    const id = await startTask(client, "REPLY:in the allowed tree", { workingDir: extra })
    const done = await waitForState(client, id, "STOPPED")
    assert.strictEqual(done.last_result, "in the allowed tree")
    assert.strictEqual((done as unknown as { working_dir: string }).working_dir, extra)
    const sent = await callTool(client, "task_send", { taskId: id, prompt: "REPLY:again" })
    assert.notStrictEqual(sent.isError, true, textOf(sent))
    assert.strictEqual((await waitForState(client, id, "STOPPED")).last_result, "again")
  })

  it("answers while a start or a log wait is in flight; cancellation ends the wait; all: true with --allow-unsafe", async () => {
    const { sandbox, session } = await setup(["--allow-unsafe"])
    const { client } = session
    const first = await startTask(client, "DELAY:60000")
    assert.strictEqual((await status(client, first)).state, "RUNNING")

    // task_status is answered while a second task_start still waits for codex's thread id.
    const order: Array<string> = []
    const secondStart = startTask(client, "DELAY:60000").then((id) => {
      order.push("start")
      return id
    })
    await status(client, first).then(() => order.push("status"))
    const second = await secondStart
    assert.deepStrictEqual(order, ["status", "start"])

    // A waiting task_log reports progress, leaves other requests alone, and stops when cancelled.
    const pid = session.transport.child.pid as number
    const idleWatches = inotifyWatches(pid)
    let progress = 0
    const abort = new AbortController()
    const waiting = callTool(
      client,
      "task_log",
      { taskId: first, waitSeconds: 120 },
      { onprogress: () => progress++, signal: abort.signal },
    )
    await waitFor("progress notifications", () => progress >= 2 || undefined, 10_000)
    assert.isAbove(inotifyWatches(pid), idleWatches, "the wait watches the task directory")
    const listed = structured<{ tasks: Array<Task> }>(await callTool(client, "task_list", {}))
    assert.sameMembers(
      listed.tasks.map((t) => t.id),
      [first, second],
    )
    abort.abort("test cancels")
    const cancelled = await waiting.then(
      () => "answered",
      () => "rejected",
    )
    assert.strictEqual(cancelled, "rejected")
    // The server stopped waiting: its watcher is released long before the 120 s are up.
    await waitFor("the wait to end", () => inotifyWatches(pid) === idleWatches || undefined, 5_000)
    const seen = progress
    await new Promise((r) => setTimeout(r, 1_500))
    assert.strictEqual(progress, seen, "no progress after the cancellation")

    const stopped = structured<{ stopped: number }>(
      await callTool(client, "task_stop", { all: true }),
    )
    assert.strictEqual(stopped.stopped, 2)
    for (const id of [first, second]) {
      assert.strictEqual((await status(client, id)).state, "STOPPED")
      const left = taskProcesses(sandbox, id)
      assert.isUndefined(left.worker)
      assert.deepStrictEqual(left.marked, [])
    }
    assertOnlyJsonRpc(session)
  })

  it("answers malformed input with protocol errors and keeps serving", async () => {
    const { session } = await setup()
    const { client, transport } = session
    const errorsFor = (code: number) =>
      transport.stdoutLines.filter((l) => {
        const m = JSON.parse(l) as { id?: unknown; error?: { code?: number } }
        return m.id === null && m.error?.code === code
      })
    transport.writeRaw("this is not json\n")
    transport.writeRaw('{"hello":"world"}\n')
    await waitFor("a parse error", () => errorsFor(ErrorCode.ParseError)[0])
    await waitFor("an invalid-request error", () => errorsFor(ErrorCode.InvalidRequest)[0])

    const unknownMethod = await client
      .request({ method: "codex/nonsense" } as unknown as ClientRequest, EmptyResultSchema)
      .catch((e: unknown) => e)
    assert.instanceOf(unknownMethod, McpError)
    assert.strictEqual((unknownMethod as McpError).code, ErrorCode.MethodNotFound)

    const missing = await client
      .readResource({ uri: "task://0199aaaa-0000-7000-8000-000000000000/status" })
      .catch((e: unknown) => e)
    assert.instanceOf(missing, McpError)
    assert.strictEqual((missing as McpError).code, -32002)

    const badArgs = await callTool(client, "task_status", { taskId: 42 })
    assert.isTrue(badArgs.isError)
    assert.include(textOf(badArgs), "Invalid arguments")
    const unknownTask = await callTool(client, "task_status", { taskId: "0199ffff" })
    assert.isTrue(unknownTask.isError)
    assert.include(textOf(unknownTask), "0199ffff")

    await client.ping()
    assert.isNull(transport.child.exitCode)
    assertOnlyJsonRpc(session)
  })

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`exits promptly on ${signal}`, async () => {
      const { session } = await setup()
      await session.client.ping()
      const started = Date.now()
      session.transport.child.kill(signal)
      const ended = await session.transport.ended
      assert.isBelow(Date.now() - started, 5_000)
      assert.notStrictEqual(ended.signal, "SIGKILL")
      assertOnlyJsonRpc(session)
    })
  }
})
