import { assert, describe, it } from "@effect/vitest"
import {
  appServerRefusals,
  processArgs,
  threadParams,
  trustArgs,
  turnInput,
} from "../../src/exec/appServer/params.js"
import { newThreadArgv } from "../../src/exec/argv.js"

// Every exec option reaches `codex app-server` with the meaning its exec flag has
// (exec/argv.ts), or is refused at start: none is dropped.

describe("exec options → codex app-server", () => {
  it("config overrides, the plan tool, extra writable dirs and features are process arguments", () => {
    const args = processArgs({
      configOverrides: ["model_reasoning_effort=high", "foo.bar=1"],
      planTool: true,
      addDirs: ["/data", "/more data"],
      enableFeatures: ["web_search"],
      disableFeatures: ["unified_exec"],
    })
    assert.deepStrictEqual(args, [
      "-c",
      "tools.update_plan.enabled=true",
      "-c",
      "model_reasoning_effort=high",
      "-c",
      "foo.bar=1",
      "-c",
      'sandbox_workspace_write.writable_roots=["/data", "/more data"]',
      "--enable",
      "web_search",
      "--disable",
      "unified_exec",
    ])
    // The same -c values exec gets (the plan tool, overrides, features).
    const exec = newThreadArgv(
      {
        configOverrides: ["model_reasoning_effort=high", "foo.bar=1"],
        planTool: true,
        enableFeatures: ["web_search"],
        disableFeatures: ["unified_exec"],
      },
      "/tmp/out",
    )
    for (const value of [
      "tools.update_plan.enabled=true",
      "foo.bar=1",
      "web_search",
      "unified_exec",
    ])
      assert.include(exec, value)
  })

  it("working dir, model and sandbox are thread settings; approvals never unless asked", () => {
    assert.deepStrictEqual(
      threadParams({ workingDir: "/w", model: "o3", sandbox: "workspace-write" }),
      { approvalPolicy: "never", cwd: "/w", model: "o3", sandbox: "workspace-write" },
    )
    assert.deepStrictEqual(threadParams({}), { approvalPolicy: "never" })
  })

  it("--dangerously-bypass-approvals-and-sandbox is danger-full-access with no approvals", () => {
    assert.deepStrictEqual(
      threadParams({ bypassApprovalsAndSandbox: true, sandbox: "read-only" }),
      { approvalPolicy: "never", sandbox: "danger-full-access" },
    )
  })

  it("images go with the prompt as local images", () => {
    assert.deepStrictEqual(turnInput("look", ["/a.png"]), [
      { type: "text", text: "look", text_elements: [] },
      { type: "localImage", path: "/a.png" },
    ])
  })

  it("the task's directories are trusted by an override, each once, quoted as TOML keys", () => {
    assert.deepStrictEqual(trustArgs(["/repo/sub", "/repo", "/repo"]), [
      "-c",
      'projects={"/repo/sub"={trust_level="trusted"},"/repo"={trust_level="trusted"}}',
    ])
    assert.deepStrictEqual(trustArgs([]), [])
  })

  it("refuses --profile and raw args after --, naming them and the way out", () => {
    const refusals = appServerRefusals({ profile: "fast", extraArgs: ["--oss"] })
    assert.strictEqual(refusals.length, 2)
    assert.match(refusals[0] ?? "", /after `--`.*--backend exec/)
    assert.match(refusals[1] ?? "", /--profile.*--backend exec/)
    assert.deepStrictEqual(
      appServerRefusals({ workingDir: "/w", model: "m", images: ["/i.png"], outputSchema: "/s" }),
      [],
    )
  })
})
