import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { runCli, waitForState } from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"

// Flags of current codex, with the real binary: `--output-schema` reaches the model request on
// the first turn and again on a resume, and the answer shows parsed as `result_json`.

const { setup } = e2eWorld()

const SCHEMA = {
  type: "object",
  properties: { answer: { type: "string" } },
  required: ["answer"],
  additionalProperties: false,
}

const formatOf = (body: unknown) =>
  (body as { text?: { format?: unknown } } | undefined)?.text?.format

describe("current codex flags", () => {
  it("--output-schema is sent on the first turn and on a resume; status shows result_json", async () => {
    const { server, sandbox } = await setup()
    const schemaFile = join(sandbox.cwd, "answer.schema.json")
    writeFileSync(schemaFile, JSON.stringify(SCHEMA))
    const started = await runCli(sandbox, [
      "start",
      "--skip-git-repo-check",
      "--output-schema",
      schemaFile,
      'REPLY:{"answer":"4"}',
    ])
    assert.strictEqual(started.code, 0, started.stderr)
    const id = started.stdout.trim()
    await waitForState(sandbox, id, "STOPPED")
    const sent = await runCli(sandbox, ["send", "--wait", id, 'REPLY:{"answer":"5"}'])
    assert.strictEqual(sent.code, 0, sent.stderr)
    const formats = server.requests.map((r) => formatOf(r.body))
    assert.lengthOf(formats, 2)
    for (const format of formats) {
      assert.deepInclude(format as object, { type: "json_schema" }, JSON.stringify(format))
      assert.deepStrictEqual((format as { schema?: unknown }).schema, SCHEMA)
    }
    const status = await runCli(sandbox, ["status", "--json", id])
    assert.deepStrictEqual(JSON.parse(status.stdout).result_json, { answer: "5" })
  }, 90_000)

  it("refuses an --output-schema that is not a JSON file, before anything starts", async () => {
    const { server, sandbox } = await setup()
    const bad = join(sandbox.cwd, "bad.json")
    writeFileSync(bad, "not json")
    const run = await runCli(sandbox, [
      "start",
      "--skip-git-repo-check",
      "--output-schema",
      bad,
      "x",
    ])
    assert.strictEqual(run.code, 1)
    assert.match(run.stderr, /--output-schema must name a readable JSON file/)
    assert.lengthOf(server.requests, 0)
  }, 60_000)
})
