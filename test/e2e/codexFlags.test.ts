import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import {
  type CliSandbox,
  runCli,
  SANDBOX_MARK_VAR,
  tokenProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { killAll, processesWithEnv } from "../support/processes.js"

// Flags of current codex, with the real binary: `--output-schema` reaches the model request on
// the first turn and again on a resume, and the answer shows parsed as `result_json`;
// `--add-dir` and raw `-- ARGS` are on the real codex process's command line of both turns.

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

  it("--add-dir and extra args are replayed on resume (the real codex's command line)", async () => {
    const { sandbox } = await setup()
    const extra = join(sandbox.cwd, "extra dir")
    mkdirSync(extra)
    const raw = ["--color", "never", "--strict-config"]
    const hold = `RUN:${tokenSleep(sandbox)}\nREPLY:done`
    const started = await runCli(sandbox, [
      "start",
      "--skip-git-repo-check",
      "--add-dir",
      extra,
      hold,
      "--",
      ...raw,
    ])
    assert.strictEqual(started.code, 0, started.stderr)
    const id = started.stdout.trim()
    const first = await codexArgvDuringTurn(sandbox, id)
    assert.notInclude(first, "resume")
    assert.include(first.join(" "), `--add-dir ${extra}`)
    assert.deepStrictEqual(first.slice(-raw.length - 1), [...raw, "-"])
    const stored = JSON.parse(readFileSync(join(sandbox.storeRoot, id, "task.json"), "utf8"))
    assert.deepStrictEqual(stored.exec.extra_args, raw)

    const sent = await runCli(sandbox, ["send", id, hold])
    assert.strictEqual(sent.code, 0, sent.stderr)
    const resumed = await codexArgvDuringTurn(sandbox, id)
    // `resume` takes no --add-dir: the same setting as a config key; the raw args stay before it.
    assert.notInclude(resumed, "--add-dir")
    assert.include(
      resumed.join(" "),
      `-c sandbox_workspace_write.writable_roots=[${JSON.stringify(extra)}]`,
    )
    assert.deepStrictEqual(resumed.slice(-raw.length - 3), [...raw, "resume", id, "-"])
  }, 120_000)

  it("refuses raw args that would break the task, before anything starts", async () => {
    const { server, sandbox } = await setup()
    const run = await runCli(sandbox, [
      "start",
      "--skip-git-repo-check",
      "x",
      "--",
      "--json",
      "resume",
      "--ephemeral",
      // codex's hidden alias of the bypass: task.json would record no bypass.
      "--yolo",
    ])
    assert.strictEqual(run.code, 2, run.stderr)
    assert.include(
      run.stderr,
      'codex argument "--yolo": an alias of --dangerously-bypass-approvals-and-sandbox',
    )
    assert.include(run.stderr, 'codex argument "--json"')
    assert.include(run.stderr, 'codex argument "resume"')
    assert.include(run.stderr, 'codex argument "--ephemeral"')
    assert.notInclude(run.stderr, "    at ")
    assert.lengthOf(server.requests, 0)
  }, 60_000)
})

/**
 * The argv (from `exec` on) of the task's codex while its turn holds on the scripted sleep, read
 * from /proc; then the sleep is ended and the turn waited for.
 */
const codexArgvDuringTurn = async (sandbox: CliSandbox, id: string) => {
  const argv = await waitFor("codex running the held turn", async () => {
    if (tokenProcesses(sandbox).length === 0) return undefined
    for (const pid of processesWithEnv(SANDBOX_MARK_VAR, sandbox.mark)) {
      const args = cmdline(pid)
      const at = args.indexOf("exec")
      if (at >= 0 && args.includes("--json")) return args.slice(at)
    }
    return undefined
  })
  killAll(tokenProcesses(sandbox))
  await waitForState(sandbox, id, "STOPPED")
  return argv
}

const cmdline = (pid: number): Array<string> => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1)
  } catch {
    return []
  }
}
