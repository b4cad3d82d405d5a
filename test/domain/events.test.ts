import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  isItemEvent,
  isThreadStarted,
  isTurnCompleted,
  isTurnFailed,
  isUnknownEvent,
  isUnknownItem,
  knownEventTypes,
  knownItemTypes,
  type ThreadEvent,
  ThreadEvent as ThreadEventSchema,
  type ThreadItem,
  type Usage,
  usageDelta,
} from "../../src/domain/events.js"
import { decodeLine, encodeEvent } from "../../src/exec/decode.js"

const fixtures = join(import.meta.dirname, "../../fixtures/codex-exec")
const jsonlFiles = readdirSync(fixtures).filter((f) => f.endsWith(".jsonl"))

const linesOf = (file: string): Array<string> =>
  readFileSync(join(fixtures, file), "utf8")
    .split("\n")
    .filter((l) => l !== "")

const eventOf = (raw: string): ThreadEvent => {
  const line = decodeLine(raw)
  if (line._tag !== "Event") throw new Error(`not an event (${line.reason}): ${raw}`)
  return line.event
}

const eventsOf = (file: string): Array<ThreadEvent> => linesOf(file).map(eventOf)

const completedItems = (file: string): Array<ThreadItem> =>
  eventsOf(file).flatMap((e) => (isItemEvent(e) && e.type === "item.completed" ? [e.item] : []))

const itemsOfType = (file: string, type: string): Array<ThreadItem> =>
  eventsOf(file).flatMap((e) => (isItemEvent(e) && e.item.type === type ? [e.item] : []))

const usageOf = (file: string): Usage => {
  const done = eventsOf(file).find(isTurnCompleted)
  if (done === undefined) throw new Error(`${file} has no turn.completed`)
  return done.usage
}

describe("decodeLine on the captured codex output", () => {
  it("has fixtures to read", () => {
    expect(jsonlFiles.length).toBeGreaterThan(60)
  })

  it.each(jsonlFiles)("%s: every line decodes to an event and re-encodes losslessly", (file) => {
    for (const raw of linesOf(file)) {
      const line = decodeLine(raw)
      expect(line._tag, raw).toBe("Event")
      if (line._tag !== "Event") continue
      expect(line.raw).toBe(raw)
      expect(JSON.parse(encodeEvent(line.event))).toStrictEqual(JSON.parse(raw))
      // The schema, run in full, agrees and keeps every field too.
      const viaSchema = Schema.decodeUnknownSync(ThreadEventSchema, {
        onExcessProperty: "preserve",
      })(JSON.parse(raw))
      expect(viaSchema).toStrictEqual(JSON.parse(raw))
    }
  })

  it("decodes thread.started and the cumulative usage of turn.completed", () => {
    const events = eventsOf("simple.jsonl")
    const started = events[0]
    expect(started !== undefined && isThreadStarted(started) && started.thread_id).toBe(
      "01a21958-bb12-7f50-a100-4cce5e9c3d14",
    )
    expect(usageOf("command.jsonl").input_tokens).toBe(10478)
  })

  it("decodes a failing command with its exit code and status", () => {
    const command = completedItems("command-failing.jsonl").find(
      (i) => !isUnknownItem(i) && i.type === "command_execution",
    )
    expect(command).toMatchObject({
      type: "command_execution",
      exit_code: 3,
      status: "failed",
      aggregated_output: "to-stdout\nto-stderr\n",
    })
    const started = itemsOfType("command-failing.jsonl", "command_execution")[0]
    expect(started).toMatchObject({ exit_code: null, status: "in_progress" })
  })

  it("decodes file_change changes", () => {
    const [, completed] = itemsOfType("patch.jsonl", "file_change")
    expect(completed).toStrictEqual({
      id: "item_1",
      type: "file_change",
      changes: [{ path: "/tmp/capture/patch/wd/hello.txt", kind: "add" }],
      status: "completed",
    })
  })

  it("decodes todo_list items across started, updated and completed", () => {
    const events = eventsOf("plan-enabled.jsonl").filter(
      (e) => isItemEvent(e) && e.item.type === "todo_list",
    )
    expect(events.map((e) => e.type)).toStrictEqual([
      "item.started",
      "item.updated",
      "item.completed",
    ])
    const todo = (e: ThreadEvent) => (isItemEvent(e) ? e.item : undefined)
    expect(todo(events[0]!)).toMatchObject({
      items: [
        { text: "Inspect the workspace", completed: false },
        { text: "Make the change", completed: false },
        { text: "Verify the result", completed: false },
      ],
    })
    expect(todo(events[2]!)).toMatchObject({
      items: [
        { text: "Inspect the workspace", completed: true },
        { text: "Make the change", completed: true },
        { text: "Verify the result", completed: true },
      ],
    })
  })

  it("decodes web_search whose JSON repeats the id key (the last one wins)", () => {
    const raw = linesOf("web-search.jsonl").find((l) => l.includes('"web_search"'))!
    expect(raw.match(/"id":/g)).toHaveLength(2)
    const [search] = itemsOfType("web-search.jsonl", "web_search")
    expect(search).toStrictEqual({
      id: "ws_mock_1_1",
      type: "web_search",
      query: "codex exec json events",
      action: { type: "search", query: "codex exec json events" },
    })
  })

  it("decodes reasoning text with its summary parts joined", () => {
    const reasoning = completedItems("reasoning.jsonl").find((i) => i.type === "reasoning")
    expect(reasoning).toMatchObject({ text: "Considering the options\nPicking the simplest one" })
  })

  it("decodes turn.failed, the error event before it, and warning items", () => {
    const events = eventsOf("http-401.jsonl")
    const failed = events.find(isTurnFailed)
    expect(failed?.error.message).toMatch(/^unexpected status 401 Unauthorized: Incorrect API key/)
    expect(events.at(-2)).toStrictEqual({ type: "error", message: failed?.error.message })
    expect(completedItems("http-401.jsonl")[0]).toMatchObject({ id: "item_0", type: "error" })
  })

  it("keeps the replacement characters of non-UTF-8 command output", () => {
    const command = completedItems("non-utf8-output.jsonl").find(
      (i) => i.type === "command_execution",
    )
    expect(command).toMatchObject({ aggregated_output: expect.stringContaining("\uFFFD") })
  })
})

describe("decodeLine tolerance", () => {
  it("keeps an unknown event type with all its fields", () => {
    const raw = '{"type":"session.configured","model":"gpt-9","nested":{"a":[1,{"b":null}]}}'
    const event = eventOf(raw)
    expect(isUnknownEvent(event)).toBe(true)
    expect(event).toStrictEqual(JSON.parse(raw))
    expect(encodeEvent(event)).toBe(raw)
  })

  it("keeps an unknown item type inside a known item event", () => {
    const raw =
      '{"type":"item.completed","item":{"id":"item_7","type":"image_view","path":"/x.png","meta":{"w":3}}}'
    const event = eventOf(raw)
    expect(isUnknownEvent(event)).toBe(false)
    expect(isItemEvent(event) && isUnknownItem(event.item)).toBe(true)
    expect(JSON.parse(encodeEvent(event))).toStrictEqual(JSON.parse(raw))
  })

  it("keeps unknown fields of known events and items", () => {
    const raw =
      '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"hi","phase":"final"},"seq":4}'
    const event = eventOf(raw)
    expect(isItemEvent(event) && isUnknownItem(event.item)).toBe(false)
    expect(JSON.parse(encodeEvent(event))).toStrictEqual(JSON.parse(raw))
    const started = eventOf('{"type":"thread.started","thread_id":"t-1","model":"gpt"}')
    expect(started).toStrictEqual({ type: "thread.started", thread_id: "t-1", model: "gpt" })
  })

  it("decodes a mcp_tool_call item loosely", () => {
    const event = eventOf(
      '{"type":"item.completed","item":{"id":"item_2","type":"mcp_tool_call","server":"docs","tool":"search","arguments":{"q":"x"},"result":{"content":[]},"status":"completed"}}',
    )
    expect(isItemEvent(event) && !isUnknownItem(event.item) && event.item.type).toBe(
      "mcp_tool_call",
    )
  })

  it.each([
    ["garbage", "not valid JSON"],
    ['{"type":"item.comp', "not valid JSON"],
    ["", "not valid JSON"],
    ['{"no":"type"}', 'no string "type" field'],
    ['{"type":42}', 'no string "type" field'],
    ["[1,2]", "not a JSON object"],
    ['"thread.started"', "not a JSON object"],
    ["null", "not a JSON object"],
  ])("keeps %j as a raw line (%s)", (raw, reason) => {
    expect(decodeLine(raw)).toStrictEqual({ _tag: "RawLine", raw, reason })
  })

  it("keeps a known event whose fields do not match as a raw line, saying why", () => {
    const line = decodeLine('{"type":"turn.completed","usage":{"input_tokens":"many"}}')
    expect(line._tag).toBe("RawLine")
    expect(line._tag === "RawLine" && line.reason).toMatch(/turn\.completed.*usage\.input_tokens/)
  })

  it("never lets a known type through unchecked", () => {
    for (const type of knownEventTypes) {
      const expected = type === "turn.started" ? "Event" : "RawLine"
      expect(decodeLine(JSON.stringify({ type }))._tag, type).toBe(expected)
    }
    for (const type of knownItemTypes) {
      const raw = JSON.stringify({ type: "item.completed", item: { type } })
      expect(decodeLine(raw)._tag, type).toBe("RawLine")
    }
  })

  it("keeps the line text exactly as given", () => {
    const raw = '{"type":"turn.started"}\r'
    expect(decodeLine(raw)).toMatchObject({ _tag: "Event", raw })
  })
})

// The hand-written fast checks of decodeLine must accept exactly what the schemas accept.
describe("decodeLine agrees with the ThreadEvent schema", () => {
  const isEvent = Schema.is(ThreadEventSchema)
  const wrongValues = (v: unknown): Array<unknown> =>
    typeof v === "string"
      ? [7, null]
      : typeof v === "number"
        ? ["7", null]
        : typeof v === "boolean"
          ? ["true"]
          : Array.isArray(v)
            ? [{}, "[]", [7]]
            : v === null
              ? ["null", {}]
              : ["{}", [], null]

  // Every variant of `value` with one field removed or given a value of the wrong type.
  const mutations = (value: unknown): Array<unknown> => {
    if (typeof value !== "object" || value === null) return []
    const out: Array<unknown> = []
    const entries = Object.entries(value)
    for (const [key, v] of entries) {
      const rebuild = (replacement: unknown[]) =>
        Array.isArray(value)
          ? value.map((e, i) => (String(i) === key ? replacement[0] : e))
          : Object.fromEntries(
              entries.flatMap(([k, e]) =>
                k === key ? (replacement.length === 0 ? [] : [[k, replacement[0]]]) : [[k, e]],
              ),
            )
      if (!Array.isArray(value)) out.push(rebuild([]))
      for (const wrong of wrongValues(v)) out.push(rebuild([wrong]))
      for (const inner of mutations(v)) out.push(rebuild([inner]))
    }
    return out
  }

  const distinct = [...new Set(jsonlFiles.flatMap(linesOf))]

  it("on every fixture line and every one-field mutation of it", () => {
    let checked = 0
    for (const raw of distinct) {
      for (const mutated of [JSON.parse(raw), ...mutations(JSON.parse(raw))]) {
        const decoded = decodeLine(JSON.stringify(mutated))._tag === "Event"
        expect(decoded, JSON.stringify(mutated)).toBe(isEvent(mutated))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(1000)
  })
})

describe("usageDelta", () => {
  it("turns the thread's running totals into per-turn usage across a resume", () => {
    const first = usageOf("resume-first.jsonl")
    const followup = usageOf("resume-followup.jsonl")
    expect(usageDelta(undefined, first)).toStrictEqual(first)
    expect(usageDelta(first, followup)).toStrictEqual({
      input_tokens: 10453 - 5182,
      cached_input_tokens: 0,
      cache_write_input_tokens: 0,
      output_tokens: 12 - 4,
      reasoning_output_tokens: 0,
    })
  })

  it("leaves out optional counters codex did not report and never goes negative", () => {
    const previous: Usage = { input_tokens: 10, cached_input_tokens: 5, output_tokens: 3 }
    const total: Usage = { input_tokens: 25, cached_input_tokens: 4, output_tokens: 9 }
    expect(usageDelta(previous, total)).toStrictEqual({
      input_tokens: 15,
      cached_input_tokens: 0,
      output_tokens: 6,
    })
  })
})
