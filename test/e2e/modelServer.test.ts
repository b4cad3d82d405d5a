import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { type ModelServer, startModelServer } from "../../src/testing/modelServer.js"
import {
  type CodexRun,
  itemsOf,
  killAllCodex,
  makeSandbox,
  runCodex,
} from "../support/modelServerCodex.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  killAllCodex()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async (options: { readonly providerConfig?: string } = {}) => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeSandbox(server, options)
  cleanups.push(sandbox.dispose)
  return { server, sandbox }
}

const last = (run: CodexRun) => run.events[run.events.length - 1]
const failure = (run: CodexRun) => {
  const event = last(run)
  assert.strictEqual(event?.type, "turn.failed", JSON.stringify(run.events))
  assert.strictEqual(run.code, 1)
  return String((event?.error as { message?: unknown } | undefined)?.message)
}
const messages = (run: CodexRun) => itemsOf(run, "completed", "agent_message").map((i) => i.text)

const postResponses = (server: ModelServer, prompt: string) =>
  fetch(`${server.url}/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "mock-model",
      prompt_cache_key: "thread-a",
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: prompt }] }],
    }),
  })

describe("model server with the real codex", () => {
  it("answers a plain prompt with the REPLY text and records the prompt", async () => {
    const { server, sandbox } = await setup()
    const run = await runCodex(sandbox, "Say hello.\nREPLY:Hello from the mock!")

    assert.strictEqual(run.code, 0, run.stderr)
    assert.strictEqual(last(run)?.type, "turn.completed")
    assert.deepStrictEqual(messages(run), ["Hello from the mock!"])
    assert.strictEqual(server.requests.length, 1)
    assert.strictEqual(server.requests[0]?.path, "/v1/responses")
    assert.strictEqual(server.requests[0]?.lastUserText, "Say hello.\nREPLY:Hello from the mock!")
  })

  it("uses the default reply when the prompt has no directive", async () => {
    const { sandbox } = await setup()
    const run = await runCodex(sandbox, "What is two plus two?")

    assert.deepStrictEqual(messages(run), ["mock reply #1 to: What is two plus two?"])
  })

  it("runs RUN commands one after another, then replies", async () => {
    const { server, sandbox } = await setup()
    const run = await runCodex(
      sandbox,
      "Run two commands.\nRUN:echo hello-from-shell\nRUN:echo second >&2; exit 3\nREPLY:Both ran.",
    )

    assert.strictEqual(run.code, 0, run.stderr)
    const started = itemsOf(run, "started", "command_execution")
    const completed = itemsOf(run, "completed", "command_execution")
    assert.strictEqual(started.length, 2)
    assert.deepStrictEqual(
      completed.map((c) => [c.aggregated_output, c.exit_code, c.status]),
      [
        ["hello-from-shell\n", 0, "completed"],
        ["second\n", 3, "failed"],
      ],
    )
    assert.deepStrictEqual(messages(run), ["Both ran."])
    assert.deepStrictEqual(
      server.requests.map((r) => r.action),
      ["function_call:exec_command", "function_call:exec_command", "message"],
    )
  })

  it("produces reasoning, todo_list and file_change items for REASON, PLAN and PATCH", async () => {
    const { sandbox } = await setup()
    const run = await runCodex(
      sandbox,
      [
        "Plan and patch.",
        "REASON:Looking around || Choosing a file",
        "PLAN:Write the file|Check it",
        "PATCH:notes/hello.txt:line one\\nline two",
        "PLAN:[x] Write the file|[x] Check it",
        "REPLY:Patched.",
      ].join("\n"),
      { args: ["-c", "tools.update_plan.enabled=true"] },
    )

    assert.strictEqual(run.code, 0, run.stderr)
    assert.deepStrictEqual(
      itemsOf(run, "completed", "reasoning").map((i) => i.text),
      ["Looking around\nChoosing a file"],
    )
    assert.deepStrictEqual(itemsOf(run, "started", "todo_list")[0]?.items, [
      { text: "Write the file", completed: false },
      { text: "Check it", completed: false },
    ])
    assert.deepStrictEqual(itemsOf(run, "completed", "todo_list")[0]?.items, [
      { text: "Write the file", completed: true },
      { text: "Check it", completed: true },
    ])
    const change = itemsOf(run, "completed", "file_change")[0]
    assert.deepStrictEqual(change?.changes, [
      { path: join(sandbox.cwd, "notes/hello.txt"), kind: "add" },
    ])
    assert.strictEqual(
      await readFile(join(sandbox.cwd, "notes/hello.txt"), "utf8"),
      "line one\nline two\n",
    )
    assert.deepStrictEqual(messages(run), ["Patched."])
  })

  it("emits a web_search item for WEB", async () => {
    const { sandbox } = await setup()
    const run = await runCodex(sandbox, "Search.\nWEB:codex exec json events\nREPLY:Found it.")

    assert.deepStrictEqual(
      itemsOf(run, "completed", "web_search").map((i) => i.query),
      ["codex exec json events"],
    )
    assert.deepStrictEqual(messages(run), ["Found it."])
  })

  it("fails the turn for STATUS:401, STATUS:500 and DROP", async () => {
    const { sandbox } = await setup()

    assert.include(failure(await runCodex(sandbox, "STATUS:401")), "401 Unauthorized")
    assert.include(failure(await runCodex(sandbox, "STATUS:500")), "high demand")
    assert.include(failure(await runCodex(sandbox, "DROP")), "stream disconnected")
  })

  it("fails with an idle timeout for HANG", async () => {
    const { sandbox } = await setup({ providerConfig: "stream_idle_timeout_ms = 1500" })
    const started = Date.now()
    const run = await runCodex(sandbox, "HANG")

    assert.include(failure(run), "idle timeout waiting for SSE")
    assert.isBelow(Date.now() - started, 10_000)
  })

  it("recovers when STATUS:500x2 is retried by codex", async () => {
    const { server, sandbox } = await setup({ providerConfig: "request_max_retries = 3" })
    const run = await runCodex(sandbox, "STATUS:500x2\nREPLY:recovered after retries")

    assert.strictEqual(run.code, 0, run.stderr)
    assert.deepStrictEqual(messages(run), ["recovered after retries"])
    assert.deepStrictEqual(
      server.requests.map((r) => r.action),
      ["status:500", "status:500", "message"],
    )
  })

  it("sends the earlier prompt and reply as history on resume", async () => {
    const { server, sandbox } = await setup()
    const first = await runCodex(sandbox, "Remember PAPAYA.\nREPLY:Noted: PAPAYA.")
    assert.strictEqual(first.code, 0, first.stderr)
    assert.isString(first.threadId)

    const second = await runCodex(sandbox, "Which word?\nREPLY:It was PAPAYA.", {
      resume: first.threadId ?? "",
    })

    assert.strictEqual(second.code, 0, second.stderr)
    assert.strictEqual(second.threadId, first.threadId)
    assert.deepStrictEqual(messages(second), ["It was PAPAYA."])
    const resumed = server.requests[1]
    assert.include(resumed?.userTexts ?? [], "Remember PAPAYA.\nREPLY:Noted: PAPAYA.")
    assert.strictEqual(resumed?.lastUserText, "Which word?\nREPLY:It was PAPAYA.")
    assert.include(JSON.stringify(resumed?.body), "Noted: PAPAYA.")
  })

  it("keeps concurrent codex processes on their own scripts", async () => {
    const { server, sandbox } = await setup()
    const [a, b] = await Promise.all([
      runCodex(sandbox, "A\nRUN:echo from-a\nREPLY:done a"),
      runCodex(sandbox, "B\nRUN:echo from-b\nRUN:echo again-b\nREPLY:done b"),
    ])

    assert.deepStrictEqual(
      itemsOf(a, "completed", "command_execution").map((c) => c.aggregated_output),
      ["from-a\n"],
    )
    assert.deepStrictEqual(
      itemsOf(b, "completed", "command_execution").map((c) => c.aggregated_output),
      ["from-b\n", "again-b\n"],
    )
    assert.deepStrictEqual([messages(a), messages(b)], [["done a"], ["done b"]])
    assert.strictEqual(server.requests.length, 5)
  })
})

describe("model server over plain HTTP", () => {
  it("answers queued steps before prompt directives", async () => {
    const server = await startModelServer()
    cleanups.push(() => server.close())
    server.enqueue(
      { fault: { type: "status", status: 429 } },
      { output: [{ type: "message", text: "queued" }] },
    )

    const throttled = await postResponses(server, "REPLY:from prompt")
    const queued = await (await postResponses(server, "REPLY:from prompt")).text()
    const prompted = await (await postResponses(server, "REPLY:from prompt")).text()

    assert.strictEqual(throttled.status, 429)
    assert.strictEqual(
      ((await throttled.json()) as { error: { code: string } }).error.code,
      "rate_limit_exceeded",
    )
    assert.include(queued, '"text":"queued"')
    assert.include(prompted, '"text":"from prompt"')
    assert.include(prompted, "event: response.completed")
  })

  it("limits STATUS:<code>x<N> to the first N requests of a conversation", async () => {
    const server = await startModelServer()
    cleanups.push(() => server.close())

    const statuses: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const response = await postResponses(server, "STATUS:500x2\nREPLY:ok")
      await response.text()
      statuses.push(response.status)
    }

    assert.deepStrictEqual(statuses, [500, 500, 200])
  })

  it("close() ends a hanging stream and waitForRequests times out", async () => {
    const server = await startModelServer()
    const response = await postResponses(server, "HANG")
    const reader = response.body?.getReader()
    assert.include(new TextDecoder().decode((await reader?.read())?.value), "response.created")

    const pending = reader?.read().then(
      (chunk) => chunk.done,
      () => true,
    )
    const started = Date.now()
    await server.close()
    assert.isTrue(await pending)
    assert.isBelow(Date.now() - started, 2_000)
    await server.waitForRequests(1)
    let timedOut = false
    await server.waitForRequests(2, 50).catch(() => {
      timedOut = true
    })
    assert.isTrue(timedOut)
  })
})
