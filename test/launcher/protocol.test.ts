import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { WorkerRequest } from "../../src/launcher/protocol.js"

const start: WorkerRequest = {
  _tag: "Start",
  storeRoot: "/s",
  codexBin: "/bin/codex",
  prompt: "hello",
  options: {
    workingDir: "/w",
    sandbox: "read-only",
    configOverrides: ["a=1"],
    skipGitRepoCheck: true,
  },
  retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
}

describe("the worker pipe", () => {
  it("carries the exec options snake_case, as task.json does, and decodes them back", () => {
    const wire = JSON.stringify(Schema.encodeSync(WorkerRequest)(start))
    assert.deepInclude(JSON.parse(wire).options, {
      working_dir: "/w",
      config_overrides: ["a=1"],
      skip_git_repo_check: true,
    })
    assert.deepStrictEqual(Schema.decodeUnknownSync(Schema.parseJson(WorkerRequest))(wire), start)
  })

  it("refuses options of the wrong type instead of passing them on", () => {
    const wire = JSON.stringify({
      ...Schema.encodeSync(WorkerRequest)(start),
      options: { sandbox: "everything" },
    })
    assert.throws(() => Schema.decodeUnknownSync(Schema.parseJson(WorkerRequest))(wire))
  })
})
