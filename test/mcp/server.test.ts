import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { afterEach, assert, describe, it } from "vitest"
import { TaskStore } from "../../src/store/TaskStore.js"
import {
  ARCHIVED,
  connectInProcess,
  DEAD,
  DONE,
  FAILED,
  type InProcessOptions,
  STARTED_ID,
  text,
  writeTask,
} from "../support/mcpInProcess.js"

// The MCP server in-process (test/support/mcpInProcess.ts): a copy of a store the Rust tool
// wrote, a stand-in task service.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const until = async (what: string, probe: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const connect = async (options: InProcessOptions = {}) => {
  const session = await connectInProcess(options)
  cleanups.push(session.close)
  return session
}

describe("MCP tools on a store", () => {
  it("task_list lists the tasks newest first with their effective states", async () => {
    const { call } = await connect()
    const r = await call("task_list", {})
    const tasks = (r.structuredContent as { tasks: Array<{ id: string; state: string }> }).tasks
    assert.deepStrictEqual(
      tasks.map((t) => [t.id, t.state]),
      [
        [FAILED, "DIED"],
        [DEAD, "DIED"],
        [DONE, "STOPPED"],
      ],
    )
    assert.include(text(r), "Investigate bug")
    const archived = await call("task_list", { states: ["ARCHIVED"] })
    assert.deepStrictEqual(
      (archived.structuredContent as { tasks: Array<{ state: string }> }).tasks.map((t) => t.state),
      ["ARCHIVED"],
    )
  })

  it("task_status gives the task object, and the CLI's message for an unknown task", async () => {
    const { call } = await connect()
    const r = await call("task_status", { taskId: "0199d7c2" })
    const task = r.structuredContent as Record<string, unknown>
    assert.strictEqual(task.id, DONE)
    assert.strictEqual(
      task.last_result,
      "The spike comes from the synchronous DNS lookup in the request path.",
    )
    assert.include(text(r), "Task ID: 0199d7c2")
    const missing = await call("task_status", { taskId: "0199ffff" })
    assert.isTrue(missing.isError)
    assert.strictEqual(text(missing), 'no task matches "0199ffff"')
    const ambiguous = await call("task_status", { taskId: "0199d7c" })
    assert.isTrue(ambiguous.isError)
    assert.include(text(ambiguous), "ambiguous")
  })

  it("task_log reads the tail, then only what was appended after nextOffset", async () => {
    const { call, storeRoot } = await connect()
    const log = join(storeRoot, DONE, "task.log")
    const lines = readFileSync(log, "utf8").trimEnd().split("\n")
    const tail = (await call("task_log", { taskId: DONE, tail: 2, format: "jsonl" }))
      .structuredContent as { content: string; events: number; nextOffset: number; state: string }
    assert.strictEqual(tail.content, `${lines.slice(-2).join("\n")}\n`)
    assert.strictEqual(tail.events, 2)
    assert.strictEqual(tail.nextOffset, statSync(log).size)
    assert.strictEqual(tail.state, "STOPPED")

    const nothing = (await call("task_log", { taskId: DONE, since: tail.nextOffset }))
      .structuredContent as { events: number; nextOffset: number }
    assert.strictEqual(nothing.events, 0)
    assert.strictEqual(nothing.nextOffset, tail.nextOffset)

    appendFileSync(log, '{"type":"user_message","message":"and now?"}\n')
    const more = await call("task_log", { taskId: DONE, since: tail.nextOffset })
    const s = more.structuredContent as { content: string; events: number; nextOffset: number }
    assert.strictEqual(s.events, 1)
    assert.include(s.content, "and now?")
    assert.strictEqual(s.nextOffset, statSync(log).size)

    const transcript = await call("task_log", { taskId: DONE })
    assert.include(text(transcript), "The spike comes from the synchronous DNS lookup")
  })

  it("task_log on a task that is not running answers at once, however long it may wait", async () => {
    const { call } = await connect()
    const started = Date.now()
    const r = await call("task_log", { taskId: DEAD, waitSeconds: 60 })
    assert.isBelow(Date.now() - started, 2_000)
    assert.isFalse((r.structuredContent as { timedOut: boolean }).timedOut)
    const bounded = await call("task_log", { taskId: DEAD, waitSeconds: 301 })
    assert.isTrue(bounded.isError)
  })

  it("task_start passes the exec options on; failures are tool errors with the service's message", async () => {
    const { call, calls } = await connect({ allowUnsafe: true })
    const r = await call("task_start", {
      prompt: "hello",
      title: "T",
      workingDir: "/tmp",
      config: ["model_reasoning_effort=high"],
      sandbox: "read-only",
      skipGitRepoCheck: true,
      repoUrl: "https://example.com/r.git",
      repoRef: "main",
    })
    assert.deepStrictEqual(r.structuredContent, { id: STARTED_ID })
    const input = calls.starts[0]
    assert.strictEqual(input?.title, "T")
    assert.deepStrictEqual(input?.options.configOverrides, ["model_reasoning_effort=high"])
    assert.strictEqual(input?.options.sandbox, "read-only")
    assert.strictEqual(input?.options.skipGitRepoCheck, true)
    assert.deepStrictEqual(input?.repo, { url: "https://example.com/r.git", ref: "main" })

    const failed = await call("task_start", { prompt: "fail" })
    assert.isTrue(failed.isError)
    assert.strictEqual(text(failed), "codex refused: not trusted")
    assert.strictEqual(calls.starts.length, 1)
  })

  it('task_start takes approvals "ask" with a timeout in seconds (answered by task_approve/task_decline)', async () => {
    const { call, calls } = await connect({})
    const r = await call("task_start", {
      prompt: "hello",
      backend: "app-server",
      approvals: "ask",
      approvalTimeoutSeconds: 90,
    })
    assert.deepStrictEqual(r.structuredContent, { id: STARTED_ID })
    assert.strictEqual(calls.starts[0]?.options.approvals, "ask")
    assert.strictEqual(calls.starts[0]?.options.approvalTimeoutMs, 90_000)
    for (const bad of [{ approvals: "sometimes" }, { approvalTimeoutSeconds: 0 }]) {
      const refused = await call("task_start", { prompt: "hello", ...bad })
      assert.isTrue(refused.isError, JSON.stringify(bad))
    }
    assert.strictEqual(calls.starts.length, 1)
  })

  it("bulk stop and archive need --allow-unsafe", async () => {
    const refused = await connect()
    for (const tool of ["task_stop", "task_archive"]) {
      const r = await refused.call(tool, { all: true })
      assert.isTrue(r.isError)
    }
    assert.deepStrictEqual(refused.calls.stops, [])
    const both = await refused.call("task_stop", { all: true, taskId: DONE })
    assert.strictEqual(text(both), "Give taskId or all: true (one of them).")

    const { call, calls, storeRoot } = await connect({ allowUnsafe: true })
    const stopped = await call("task_stop", { all: true })
    assert.deepStrictEqual(calls.stops, ["all"])
    assert.strictEqual(text(stopped), `Task ${DEAD} stopped.\nStopped 1 task(s).`)
    const archived = await call("task_archive", { all: true })
    assert.deepStrictEqual(archived.structuredContent?.archived, 3)
    for (const id of [DONE, DEAD, FAILED]) assert.isFalse(existsSync(join(storeRoot, id)))
  })

  it("task_stop of an id that matches no task says so (not an output-schema error)", async () => {
    const { call } = await connect()
    const r = await call("task_stop", { taskId: "0199ffff" })
    assert.strictEqual(text(r), "No task matches '0199ffff'.")
    assert.deepStrictEqual(r.structuredContent?.reports, [
      { id: "0199ffff", status: "unknown", message: "No task matches '0199ffff'." },
    ])
  })
})

describe("MCP resources", () => {
  it("lists and reads each task's status and log", async () => {
    const { client, call } = await connect()
    const { resources } = await client.listResources()
    assert.includeMembers(
      resources.map((r) => r.uri),
      [`task://${DONE}/status`, `task://${DONE}/log`, `task://${FAILED}/status`],
    )
    const read = await client.readResource({ uri: `task://${DONE}/status` })
    const first = read.contents[0] as { text: string }
    const status = await call("task_status", { taskId: DONE })
    assert.deepStrictEqual(JSON.parse(first.text), status.structuredContent)
    const log = await client.readResource({ uri: `task://${DONE}/log` })
    assert.include((log.contents[0] as { text: string }).text, "synchronous DNS lookup")
  })

  it("notifies a subscriber when the task changes, and stops after unsubscribe", async () => {
    const { client, storeRoot } = await connect()
    const updated: Array<string> = []
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri)
    })
    const uri = `task://${DONE}/log`
    await client.subscribeResource({ uri })
    appendFileSync(join(storeRoot, DONE, "task.log"), '{"type":"turn.started"}\n')
    const deadline = Date.now() + 5_000
    while (updated.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    assert.deepStrictEqual(updated, [uri])
    await client.unsubscribeResource({ uri })
    appendFileSync(join(storeRoot, DONE, "task.log"), '{"type":"turn.started"}\n')
    await new Promise((r) => setTimeout(r, 400))
    assert.deepStrictEqual(updated, [uri])
  })
})

describe("MCP resource subscriptions to archived or missing tasks", () => {
  const MISSING = "0199d7ff-0000-7000-8000-00000000abcd"

  it("do not resolve them again on every re-check; a missing one after the store root changes", async () => {
    const resolved = new Map<string, number>()
    const { client, storeRoot } = await connect({
      recheckMs: 25,
      wrapStore: (store) =>
        TaskStore.make({
          ...store,
          resolve: (ref, options) => {
            resolved.set(ref, (resolved.get(ref) ?? 0) + 1)
            return store.resolve(ref, options)
          },
        }),
    })
    const updated: Array<string> = []
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri)
    })
    for (const id of [ARCHIVED, MISSING, DONE]) {
      await client.subscribeResource({ uri: `task://${id}/status` })
      await client.subscribeResource({ uri: `task://${id}/log` })
    }
    // File events of the store's own set-up may still arrive (debounced) on a loaded machine:
    // count from two re-check passes on, once they have settled.
    const settled = resolved.get(DONE) ?? 0
    await until("two re-checks", () => (resolved.get(DONE) ?? 0) >= settled + 4)
    await new Promise((r) => setTimeout(r, 300))
    const afterSubscribing = { archived: resolved.get(ARCHIVED), missing: resolved.get(MISSING) }
    // The active task is re-checked on every pass: ten passes of the re-check.
    const active = resolved.get(DONE) ?? 0
    await until("ten re-checks", () => (resolved.get(DONE) ?? 0) >= active + 20)
    assert.strictEqual(resolved.get(ARCHIVED), afterSubscribing.archived)
    assert.strictEqual(resolved.get(MISSING), afterSubscribing.missing)
    assert.deepStrictEqual(updated, [])

    writeTask(storeRoot, MISSING, {})
    await until("the update of the task that appeared", () =>
      updated.includes(`task://${MISSING}/status`),
    )
    assert.strictEqual(resolved.get(ARCHIVED), afterSubscribing.archived)
  })
})

describe("MCP task objects for every outcome kind", () => {
  const KINDS = [
    "completed",
    "interrupted",
    "failed",
    "worker_lost",
    "timed_out",
    "budget_exhausted",
  ] as const
  const idOf = (i: number) => `0199aaaa-0000-7000-8000-00000000000${i}`

  it("task_status and task_list answer for a task of each kind (no output-schema error)", async () => {
    const { call, storeRoot } = await connect()
    for (const [i, kind] of KINDS.entries()) {
      writeTask(storeRoot, idOf(i), {
        state: "STOPPED",
        last_outcome: { kind, message: `ended ${kind}`, at: "2026-01-01T00:00:00.000Z" },
      })
    }
    for (const [i, kind] of KINDS.entries()) {
      const r = await call("task_status", { taskId: idOf(i) })
      assert.isNotTrue(r.isError, text(r))
      const outcome = (r.structuredContent as { outcome: { kind: string } }).outcome
      assert.strictEqual(outcome.kind, kind)
    }
    const list = await call("task_list", {})
    assert.isNotTrue(list.isError, text(list))
    const kinds = (
      list.structuredContent as { tasks: Array<{ outcome: { kind: string } | null }> }
    ).tasks.map((t) => t.outcome?.kind)
    for (const kind of KINDS) assert.include(kinds, kind)
  })
})
