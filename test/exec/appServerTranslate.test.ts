import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { type ExecEventJson, makeTurnTranslator } from "../../src/exec/appServer/translate.js"
import { classify } from "../../src/exec/classify.js"
import { decodeLine } from "../../src/exec/decode.js"

// Recorded with codex 0.169.0 `app-server` against the scripted model server
// (fixtures/codex-app-server/README.md): `>` lines we sent, `<` lines codex sent.
const transcript = (name: string) =>
  readFileSync(new URL(`../../fixtures/codex-app-server/${name}.jsonl`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("< "))
    .map((l) => JSON.parse(l.slice(2)) as Record<string, unknown>)

const threadOf = (messages: ReadonlyArray<Record<string, unknown>>): string => {
  const started = messages.find((m) => m.method === "thread/started") as
    | { params: { thread: { id: string } } }
    | undefined
  if (started === undefined) throw new Error("no thread/started")
  return started.params.thread.id
}

/** Every notification of the first turn (up to its `turn/completed`) → exec events. */
const translate = (name: string, turn = 0): ReadonlyArray<ExecEventJson> => {
  const messages = transcript(name)
  const thread = threadOf(messages)
  let seen = 0
  let translator = makeTurnTranslator(thread)
  const out: Array<ExecEventJson> = []
  for (const m of messages) {
    if (typeof m.method !== "string" || m.id !== undefined) continue
    const events = translator.push(m.method, m.params)
    if (seen === turn) out.push(...events)
    if (m.method === "turn/completed") {
      seen++
      translator = makeTurnTranslator(thread)
    }
  }
  return out
}

const types = (events: ReadonlyArray<ExecEventJson>) => events.map((e) => e.type)

/** How the existing classifier reads the translated turn (as it reads an exec run). */
const outcomeOf = (events: ReadonlyArray<ExecEventJson>, thread = "t") =>
  classify({
    exitCode: null,
    signal: null,
    stderrLines: [],
    lines: [
      decodeLine(JSON.stringify({ type: "thread.started", thread_id: thread })),
      ...events.map((e) => decodeLine(JSON.stringify(e))),
    ],
    interruptedByUs: false,
  })

describe("app-server notifications → exec events", () => {
  it("a reply turn reads as exec's: turn.started, the warning item, the message, turn.completed", () => {
    const events = translate("simple")
    assert.deepStrictEqual(types(events), [
      "item.completed",
      "turn.started",
      "item.completed",
      "turn.completed",
    ])
    assert.deepStrictEqual(events[0]?.item, {
      id: "warning_0",
      type: "error",
      message:
        "Model metadata for `mock-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.",
    })
    assert.deepStrictEqual(events[2]?.item, {
      id: "msg_60ea93_1_0",
      type: "agent_message",
      text: "hello there",
    })
    const outcome = outcomeOf(events)
    assert.strictEqual(outcome._tag, "Completed")
    if (outcome._tag === "Completed") assert.strictEqual(outcome.finalMessage, "hello there")
  })

  it("turn.completed carries the thread's running total as usage and the turn's own as last_usage", () => {
    const second = translate("simple", 1)
    const completed = second.find((e) => e.type === "turn.completed") as unknown as {
      usage: { input_tokens: number; output_tokens: number }
      last_usage: { input_tokens: number; output_tokens: number }
    }
    assert.deepStrictEqual(
      [completed.usage.input_tokens, completed.usage.output_tokens],
      [10387, 5],
    )
    assert.deepStrictEqual(
      [completed.last_usage.input_tokens, completed.last_usage.output_tokens],
      [5230, 2],
    )
  })

  it("a command is an exec command_execution item, started then completed with its output", () => {
    const items = translate("command")
      .filter((e) => e.type === "item.started" || e.type === "item.completed")
      .map((e) => (e as unknown as { item: Record<string, unknown> }).item)
      .filter((i) => i.type === "command_execution")
    assert.strictEqual(items.length, 2)
    assert.deepStrictEqual(items[0], {
      id: "call_1e91b3_1_0",
      type: "command_execution",
      command: "/bin/bash -lc 'sleep 2; echo done'",
      aggregated_output: "",
      exit_code: null,
      status: "in_progress",
    })
    assert.strictEqual(items[1]?.aggregated_output, "done\n")
    assert.strictEqual(items[1]?.exit_code, 0)
    assert.strictEqual(items[1]?.status, "completed")
  })

  it("a patch is a file_change item with exec's change kinds", () => {
    const item = translate("patch")
      .filter((e) => e.type === "item.completed")
      .map((e) => (e as unknown as { item: Record<string, unknown> }).item)
      .find((i) => i.type === "file_change") as
      | { changes: ReadonlyArray<{ path: string; kind: string }>; status: string }
      | undefined
    assert.isDefined(item)
    assert.strictEqual(item?.status, "completed")
    assert.strictEqual(item?.changes[0]?.kind, "add")
    assert.match(item?.changes[0]?.path ?? "", /hello\.txt$/)
  })

  it("a usage limit fails the turn with exec's message, classified UsageLimitReached", () => {
    const events = translate("usage")
    assert.deepStrictEqual(types(events).slice(-2), ["error", "turn.failed"])
    const outcome = outcomeOf(events)
    assert.strictEqual(outcome._tag, "Failed")
    if (outcome._tag === "Failed") assert.strictEqual(outcome.error._tag, "UsageLimitReached")
  })

  it("a 5xx is a retryable TransientFailure, the error said once", () => {
    const events = translate("http500")
    assert.strictEqual(types(events).filter((t) => t === "error").length, 1)
    const outcome = outcomeOf(events)
    assert.strictEqual(outcome._tag, "Failed")
    if (outcome._tag === "Failed") assert.strictEqual(outcome.error._tag, "TransientFailure")
  })

  it("an interrupted turn prints no turn event, as exec after SIGINT", () => {
    const events = translate("interrupt")
    assert.notInclude(types(events), "turn.completed")
    assert.notInclude(types(events), "turn.failed")
  })

  it("an unknown notification is kept as an event of its own type, with its params", () => {
    const t = makeTurnTranslator("t1")
    assert.deepStrictEqual(t.push("thread/goal/updated", { threadId: "t1", goal: "x" }), [
      { type: "app_server.thread/goal/updated", params: { threadId: "t1", goal: "x" } },
    ])
    assert.deepStrictEqual(t.push("item/started", { threadId: "other", item: {} }), [])
  })

  it("every translated line decodes as the event it claims to be, never a raw line", () => {
    for (const name of ["simple", "command", "patch", "usage", "http500", "steer", "approval"]) {
      for (const event of translate(name)) {
        const line = decodeLine(JSON.stringify(event))
        assert.strictEqual(line._tag, "Event", `${name}: ${JSON.stringify(event)}`)
      }
    }
  })
})
