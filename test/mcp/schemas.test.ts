import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as z from "zod"
import { ExecOptions } from "../../src/exec/options.js"
import { execOptionsOf, StartInput } from "../../src/gate/startInput.js"
import { SendArgs, StartArgs } from "../../src/mcp/schemas.js"

// The MCP `task_start` schema is zod (the SDK's); the exec options are one effect Schema. These
// tests keep the two in step: a new exec option must reach MCP clients (or be listed as CLI-only).

/** `task_start` arguments that are not exec options. */
const NOT_EXEC = ["prompt", "title", "repoUrl", "repoRef", "worktree", "onFinish", "webhook"]
/** Exec options MCP clients cannot set. */
const CLI_ONLY = ["outputSchema", "addDirs", "enableFeatures", "disableFeatures"]

const everyArgument = StartArgs.parse({
  prompt: "p",
  title: "t",
  workingDir: "/w",
  configFile: "/c/config.toml",
  repoUrl: "/r",
  repoRef: "main",
  model: "m",
  sandbox: "workspace-write",
  profile: "pr",
  config: ["a=1"],
  skipGitRepoCheck: true,
  images: ["/i.png"],
  planTool: true,
  dangerouslyBypassApprovalsAndSandbox: true,
  extraArgs: ["--oss"],
  backend: "app-server",
  approvals: "ask",
  approvalTimeoutSeconds: 600,
})

describe("task_start arguments and ExecOptions", () => {
  it("every exec option but the CLI-only ones has a task_start argument that sets it", () => {
    const options = execOptionsOf(everyArgument)
    const unset = Object.keys(ExecOptions.fields).filter(
      (k) => !CLI_ONLY.includes(k) && options[k as keyof ExecOptions] === undefined,
    )
    assert.deepStrictEqual(unset, [])
    // And what it sets is valid for the schema the worker decodes.
    assert.deepStrictEqual(
      Schema.decodeUnknownSync(ExecOptions)(Schema.encodeSync(ExecOptions)(options)),
      options,
    )
  })

  it("every task_start argument is an exec option or one of the known others", () => {
    const options = execOptionsOf(everyArgument)
    const setOptions = Object.values(options).length
    const argumentsGiven = Object.keys(StartArgs.shape).filter((k) => !NOT_EXEC.includes(k))
    assert.strictEqual(argumentsGiven.length, setOptions, argumentsGiven.join(", "))
  })
})

describe("task_start and task_send arguments, from their Schemas", () => {
  it("refuse a misspelt argument, also inside worktree, and an empty prompt or taskId", () => {
    const bad = [
      { prompt: "p", promt: "p" },
      { prompt: "p", worktree: { branh: "b" } },
      { prompt: "" },
      { prompt: "p", sandbox: "none" },
      { prompt: "p", config: "a=1" },
    ]
    for (const args of bad) {
      assert.isFalse(StartArgs.safeParse(args).success, JSON.stringify(args))
    }
    assert.match(
      StartArgs.safeParse({ prompt: "p", promt: "p" }).error?.message ?? "",
      /Unrecognized key.*promt/s,
    )
    assert.isTrue(StartArgs.safeParse({ prompt: "p", worktree: {} }).success)
    assert.isFalse(SendArgs.safeParse({ taskId: "t", prompt: "p", wait: true }).success)
    assert.isFalse(SendArgs.safeParse({ taskId: "", prompt: "p" }).success)
    assert.deepStrictEqual(SendArgs.parse({ taskId: "t", prompt: "p" }), {
      taskId: "t",
      prompt: "p",
    })
  })

  it("list every argument with its description to clients, closed to others", () => {
    const listed = z.toJSONSchema(StartArgs, { io: "input" }) as {
      properties: Record<string, { description?: string; additionalProperties?: unknown }>
      additionalProperties: unknown
      required: Array<string>
    }
    assert.deepStrictEqual(Object.keys(listed.properties), Object.keys(StartInput.fields))
    assert.deepStrictEqual(listed.required, ["prompt"])
    assert.isFalse(listed.additionalProperties)
    assert.isFalse(listed.properties.worktree?.additionalProperties)
    const undescribed = Object.entries(listed.properties).filter(([, p]) => !p.description)
    assert.deepStrictEqual(
      undescribed.map(([k]) => k),
      ["model"],
    )
    assert.include(listed.properties.onFinish?.description, "--allow-unsafe")
  })
})
