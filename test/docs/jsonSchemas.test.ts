import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { SendJson, TaskJson } from "../../src/domain/wire.js"
import { documentedSchemas } from "../../src/domain/wireSchemas.js"
import { ListResult, SendResult, TaskResult as TaskJsonZod } from "../../src/mcp/schemas.js"

// docs/json-schema/{task,task-list,start,send}.schema.json are generated from src/domain/wire.ts
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
})
