import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Ajv2020 } from "ajv/dist/2020.js"
import { Schema } from "effect"
import {
  decodeLogEntry,
  invocationFailed,
  logEntryTypes,
  notificationEntry,
  promptsDropped,
  retryEntry,
  stderrLine,
  userMessage,
  workerNote,
} from "../../src/domain/logEntries.js"
import type { TaskId } from "../../src/domain/taskId.js"
import { ApplyJson, DiffJson, LogLineJson, SendJson, TaskJson } from "../../src/domain/wire.js"
import { documentedSchemas } from "../../src/domain/wireSchemas.js"
import { decodeLine } from "../../src/exec/decode.js"
import {
  DiffResult,
  ListResult,
  SendResult,
  TaskResult as TaskJsonZod,
} from "../../src/mcp/schemas.js"
import { changesJson } from "../../src/tasks/taskDiff.js"

// docs/json-schema/*.schema.json are generated from src/domain/wire.ts
// (`npm run build && npm run json-schemas`); the MCP zod schemas are built from the same Schemas.

const dir = new URL("../../docs/json-schema/", import.meta.url)

const task = (fields: Record<string, unknown> = {}) => ({
  id: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d",
  title: null,
  state: "STOPPED",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:01.000Z",
  last_prompt: "p",
  last_result: "r",
  working_dir: "/w",
  pid: null,
  initial_prompt: "p",
  outcome: { kind: "completed", at: "2026-01-01T00:00:01.000Z" },
  queued_prompts: 0,
  dropped_prompts: 0,
  turns: 1,
  usage: null,
  archived: false,
  path: "/s/t",
  worker_stderr: null,
  waiting: null,
  ...fields,
})

describe("wire shapes", () => {
  it("the checked-in JSON Schemas are the ones generated from the wire Schemas", () => {
    for (const [name, generated] of Object.entries(documentedSchemas())) {
      const file = JSON.parse(readFileSync(new URL(`${name}.schema.json`, dir), "utf8"))
      assert.deepStrictEqual(file, generated, `docs/json-schema/${name}.schema.json is stale`)
    }
  })

  it("the MCP zod task schema accepts and refuses what the Schema does", () => {
    const kinds = TaskJson.fields.outcome.members[0].members.map((m) => m.fields.kind.literals[0])
    assert.isAtLeast(kinds.length, 6)
    for (const kind of kinds) {
      const value = task({
        outcome: { kind, error_class: "E", message: "m", at: "2026-01-01T00:00:01.000Z" },
      })
      assert.isTrue(Schema.is(TaskJson)(value), kind)
      assert.isTrue(TaskJsonZod.safeParse(value).success, kind)
      assert.isTrue(ListResult.safeParse({ tasks: [value], unreadable: [] }).success, kind)
    }
    const wrong = [
      task({ outcome: { kind: "exploded", at: "2026-01-01T00:00:01.000Z" } }),
      task({ state: "IDLE" }),
      task({ created_at: "yesterday" }),
      task({ turns: -1 }),
      task({ pid: 0 }),
    ]
    for (const value of wrong) {
      assert.isFalse(Schema.is(TaskJson)(value), JSON.stringify(value))
      assert.isFalse(TaskJsonZod.safeParse(value).success, JSON.stringify(value))
    }
    // Keys added later are accepted by both.
    assert.isTrue(TaskJsonZod.safeParse(task({ host: "a" })).success)
  })

  it("send results: started, and queued with a position", () => {
    for (const value of [
      { id: "t1", seq: 1, status: "started" },
      { id: "t1", seq: 2, status: "queued", position: 1 },
    ]) {
      assert.isTrue(Schema.is(SendJson)(value))
      assert.isTrue(SendResult.safeParse(value).success)
    }
    assert.isFalse(SendResult.safeParse({ id: "t1", seq: 0, status: "started" }).success)
  })

  it("diff results: a worktree task's and a plain task's, with and without the patch", () => {
    const id = "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d" as TaskId
    const files = [
      { path: "f.txt", added: 1, deleted: 0 },
      { path: "logo.png", added: null, deleted: null },
    ]
    const worktree = { path: "/s/.worktrees/a", branch: "codex-tasks/0199d7c2", base: "abc" }
    const record = { ...worktree, base_ref: "HEAD", repo: "/r", dir: "/r" }
    const values = [
      changesJson(id, { worktree: record, files, patch: "+x", touched: [] }, false),
      changesJson(id, { worktree: record, files, patch: "", touched: [] }, true),
      changesJson(id, { worktree: undefined, files: [], patch: "", touched: ["/w/a"] }, false),
    ]
    assert.deepStrictEqual(values[0]?.worktree, worktree, "the record's other keys are not shown")
    assert.notProperty(values[1], "patch")
    assert.deepStrictEqual(values[2]?.worktree, null)
    for (const value of values) {
      assert.isTrue(Schema.is(DiffJson)(value), JSON.stringify(value))
      assert.isTrue(DiffResult.safeParse(value).success, JSON.stringify(value))
    }
    const wrong = [
      { ...values[0], files: [{ path: "f.txt", added: -1, deleted: 0 }] },
      { ...values[0], touched: undefined },
      { ...values[0], patch: 3 },
      { ...values[2], worktree: { path: "/p" } },
    ]
    for (const value of wrong) {
      assert.isFalse(Schema.is(DiffJson)(value), JSON.stringify(value))
      assert.isFalse(DiffResult.safeParse(value).success, JSON.stringify(value))
    }
  })

  it("apply results", () => {
    assert.isTrue(Schema.is(ApplyJson)({ id: "t1", dir: "/r", files: [], committed: false }))
    assert.isFalse(Schema.is(ApplyJson)({ id: "t1", dir: "/r", files: ["a"] }))
  })
})

// docs/json-schema/log-entry.schema.json (generated from `LogLineJson`) must accept exactly the
// lines our readers accept: codex's events as `decodeLine` takes them, our entries as
// `decodeLogEntry` does; on every recorded line, every entry the worker writes, and every
// one-field mutation of them.
describe("task.log lines", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  for (const name of Object.keys(documentedSchemas())) {
    ajv.addSchema(JSON.parse(readFileSync(new URL(`${name}.schema.json`, dir), "utf8")))
  }
  const documentedLine = ajv.getSchema(
    "https://codex-tasks.invalid/json-schema/log-entry.schema.json",
  )
  const isLine = Schema.is(LogLineJson)
  const readable = (value: unknown): boolean => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false
    const type = (value as { type?: unknown }).type
    if (typeof type === "string" && logEntryTypes.has(type)) {
      return decodeLogEntry(value as { type: string }) !== undefined
    }
    return decodeLine(JSON.stringify(value))._tag === "Event"
  }

  const wrongValues = (v: unknown): Array<unknown> =>
    typeof v === "string"
      ? [7, null]
      : typeof v === "number"
        ? ["7", null]
        : typeof v === "boolean"
          ? ["true"]
          : Array.isArray(v)
            ? [{}, [7]]
            : v === null
              ? ["null"]
              : ["{}", null]
  const mutations = (value: unknown): Array<unknown> => {
    if (typeof value !== "object" || value === null) return []
    const entries = Object.entries(value)
    return entries.flatMap(([key, v]) => {
      const rebuild = (replacement: Array<unknown>) =>
        Array.isArray(value)
          ? value.map((e, i) => (String(i) === key ? replacement[0] : e))
          : Object.fromEntries(
              entries.flatMap(([k, e]) =>
                k === key ? (replacement.length === 0 ? [] : [[k, replacement[0]]]) : [[k, e]],
              ),
            )
      return [
        ...(Array.isArray(value) ? [] : [rebuild([])]),
        ...wrongValues(v).map((w) => rebuild([w])),
        ...mutations(v).map((m) => rebuild([m])),
      ]
    })
  }

  const recorded = (root: string): Array<string> =>
    (readdirSync(root, { recursive: true, encoding: "utf8" }) as Array<string>)
      .filter((f) => f.endsWith(".jsonl") || f.endsWith(".log"))
      .flatMap((f) => readFileSync(join(root, f), "utf8").split("\n"))
      .filter((l) => {
        try {
          JSON.parse(l)
          return true
        } catch {
          return false
        }
      })
  const written = [
    userMessage("p"),
    stderrLine("warning: x"),
    retryEntry({ attempt: 1, maxRetries: 3, delayMs: 1000, errorClass: "Network", message: "m" }),
    invocationFailed("Auth", "401", false),
    promptsDropped(["a", "b"], "budget"),
    promptsDropped([]),
    workerNote("stop requested"),
    notificationEntry({ kind: "webhook", ok: false, message: "HTTP 500", status: 500 }),
    notificationEntry({ kind: "on_finish", ok: true, message: "exit 0", exitCode: 0, output: "" }),
  ].map((l) => l.trimEnd())
  const fixtures = fileURLToPath(new URL("../../fixtures/", import.meta.url))
  const lines = [...new Set([...recorded(fixtures), ...written])]

  it("every entry the worker writes is a documented line", () => {
    for (const line of written) {
      assert.isTrue(documentedLine?.(JSON.parse(line)), line)
    }
  })

  it("the documented schema, the Schema and the readers agree on every recorded line and its mutations", () => {
    const types = new Set<string>()
    let checked = 0
    for (const line of lines) {
      const value = JSON.parse(line)
      types.add(value.type)
      for (const candidate of [value, ...mutations(value)]) {
        const expected = readable(candidate)
        const what = JSON.stringify(candidate)
        assert.strictEqual(documentedLine?.(candidate), expected, what)
        assert.strictEqual(isLine(candidate), expected, what)
        checked++
      }
    }
    assert.isAtLeast(checked, 2000)
    for (const type of [...logEntryTypes, "thread.started", "item.completed", "turn.failed"]) {
      assert.isTrue(types.has(type), type)
    }
  })

  it("keeps a line of a type nobody knows, refuses a known one that lacks its fields", () => {
    assert.isTrue(documentedLine?.({ type: "some.future.event", x: 1 }))
    for (const type of [...logEntryTypes, "thread.started", "item.completed", "turn.completed"]) {
      assert.isFalse(documentedLine?.({ type }), type)
    }
    assert.isFalse(documentedLine?.({ message: "no type" }))
    assert.isFalse(
      documentedLine?.({ type: "item.completed", item: { id: "i", type: "agent_message" } }),
    )
    assert.isTrue(documentedLine?.({ type: "item.completed", item: { type: "future_item" } }))
  })
})
