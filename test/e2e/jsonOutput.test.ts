import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { runCli, taskDir, waitForState } from "../support/cli.js"
import {
  assertSchema,
  fakeId,
  schemaErrors,
  startTask,
  useWorlds,
  writeFakeTask,
} from "../support/watchHelpers.js"

// The JSON outputs of docs/json-output.md, produced by the built CLI with the real codex against
// the scripted model server, validated against the schemas in docs/json-schema/.

const setup = useWorlds()

type TaskJson = Record<string, unknown> & { readonly id: string; readonly state: string }

const RUST_KEYS = [
  "id",
  "title",
  "state",
  "created_at",
  "updated_at",
  "last_prompt",
  "last_result",
  "working_dir",
  "pid",
]

/** Runs the CLI, asserts exit 0 and returns its stdout parsed as JSON. */
const json = async (
  sandbox: Parameters<typeof runCli>[0],
  args: ReadonlyArray<string>,
): Promise<unknown> => {
  const run = await runCli(sandbox, args)
  assert.strictEqual(run.code, 0, `${args.join(" ")}: ${run.stderr}`)
  return JSON.parse(run.stdout)
}

describe("the documented schemas", () => {
  it("reject what the documentation rules out (the validator is not vacuous)", () => {
    const task = {
      id: fakeId(1),
      title: null,
      state: "STOPPED",
      created_at: "2025-01-02T03:04:05.000Z",
      updated_at: "2025-01-02T03:04:05Z",
      last_prompt: "p",
      last_result: null,
      working_dir: "/tmp",
      pid: null,
      initial_prompt: "p",
      outcome: { kind: "completed", at: "2025-01-02T03:04:05.000Z" },
      queued_prompts: 0,
      dropped_prompts: 0,
      turns: 1,
      usage: null,
      archived: false,
      path: "/tmp/x",
      worker_stderr: null,
      waiting: null,
    }
    assert.deepStrictEqual(schemaErrors("task", task), [])
    assert.deepStrictEqual(schemaErrors("task", { ...task, future_key: 1 }), [])
    for (const bad of [
      { ...task, state: "IDLE" },
      { ...task, pid: 1234 },
      { ...task, archived: true },
      { ...task, created_at: "yesterday" },
      { ...task, outcome: { kind: "exploded", at: task.created_at } },
      { ...task, usage: { input_tokens: 1 } },
      { ...task, id: "../etc" },
      (({ path: _, ...rest }) => rest)(task),
    ]) {
      assert.isNotEmpty(schemaErrors("task", bad), JSON.stringify(bad))
    }
    assert.isNotEmpty(schemaErrors("task-list", task), "a list is an array")
    assert.isNotEmpty(schemaErrors("start", { pid: 3 }), "start without an id")
    assert.isNotEmpty(schemaErrors("send", { id: fakeId(1), seq: 1, status: "queued" }))
    assert.isNotEmpty(schemaErrors("send", { id: fakeId(1), seq: 0, status: "started" }))
    assert.isNotEmpty(schemaErrors("send", { id: fakeId(1), seq: 1, status: "paused" }))
    assert.isNotEmpty(schemaErrors("log-entry", { type: "user_message" }))
    assert.isNotEmpty(schemaErrors("log-entry", { message: "no type" }))
    assert.deepStrictEqual(schemaErrors("log-entry", { type: "some.future.event", x: 1 }), [])
  })
})

describe("JSON output of the CLI", () => {
  it("start --json, send --json (started and queued), status --json, ls --json", async () => {
    const { sandbox } = await setup()
    const started = (await json(sandbox, [
      "start",
      "--skip-git-repo-check",
      "--json",
      "-t",
      "json task",
      "First.\nREPLY:first answer",
    ])) as { id: string }
    assertSchema("start", started)
    const id = started.id
    await waitForState(sandbox, id, "STOPPED")

    const one = (await json(sandbox, ["status", "--json", id])) as TaskJson
    assertSchema("task", one, "status --json TASK")
    assert.deepStrictEqual(Object.keys(one).slice(0, RUST_KEYS.length), RUST_KEYS)
    assert.strictEqual(one.id, id)
    assert.strictEqual(one.title, "json task")
    assert.strictEqual(one.state, "STOPPED")
    assert.strictEqual(one.last_result, "first answer")
    assert.strictEqual(one.initial_prompt, "First.\nREPLY:first answer")
    assert.strictEqual(one.turns, 1)
    assert.strictEqual(one.pid, null)
    assert.strictEqual((one.outcome as { kind: string }).kind, "completed")
    // codex reports five counters, cache writes included (0 against the scripted server).
    assert.deepStrictEqual(Object.keys(one.usage as object), [
      "input_tokens",
      "cached_input_tokens",
      "cache_write_input_tokens",
      "output_tokens",
      "reasoning_output_tokens",
    ])
    assert.strictEqual(one.path, taskDir(sandbox, id))

    const sent = (await json(sandbox, [
      "send",
      "--json",
      id,
      "Second, slow.\nDELAY:4000\nREPLY:second answer",
    ])) as Record<string, unknown>
    assertSchema("send", sent, "send --json (started)")
    assert.deepStrictEqual(sent, { id, seq: sent.seq, status: "started" })
    const queued = (await json(sandbox, [
      "send",
      "--json",
      id,
      "Third.\nREPLY:third answer",
    ])) as Record<string, unknown>
    assertSchema("send", queued, "send --json (queued)")
    assert.strictEqual(queued.status, "queued")
    assert.strictEqual(queued.position, 1)

    const other = fakeId(9)
    await writeFakeTask(sandbox, other, { created_at: "2020-01-01T00:00:00Z" })
    const [running, several, everything, lsJson] = (await Promise.all([
      json(sandbox, ["status", "--json", "-A"]),
      json(sandbox, ["status", "--json", id, other]),
      json(sandbox, ["status", "--json", "-a"]),
      json(sandbox, ["ls", "--json"]),
    ])) as Array<ReadonlyArray<TaskJson>>
    for (const [what, list] of [
      ["status --json -A", running],
      ["status --json TASK TASK", several],
      ["status --json -a", everything],
      ["ls --json", lsJson],
    ] as const) {
      assertSchema("task-list", list, what)
    }
    assert.deepStrictEqual(
      running?.map((t) => [t.id, t.state, typeof t.pid]),
      [[id, "RUNNING", "number"]],
    )
    assert.strictEqual(running?.[0]?.queued_prompts, 1)
    assert.deepStrictEqual(
      several?.map((t) => t.id),
      [id, other],
    )
    assert.deepStrictEqual(
      lsJson?.map((t) => t.id),
      [id, other],
      "newest first",
    )
    assert.sameMembers(everything?.map((t) => t.id) ?? [], [id, other])

    const done = await waitForState(sandbox, id, "STOPPED", { extra: (m) => m.turns === 3 })
    assert.strictEqual(done.meta.last_result, "third answer")
    const empty = await runCli(sandbox, ["status", "--json", "-A"])
    assert.strictEqual(empty.code, 0)
    assert.deepStrictEqual(JSON.parse(empty.stdout), [], "no running task: an empty array")
  })

  it("log --json prints task.log byte for byte; each line is a documented entry", async () => {
    const { sandbox } = await setup()
    const id = await startTask(
      sandbox,
      "Work.\nREASON:think first\nRUN:printf 'tab\\there\\n'; echo 'café ☕'\nPLAN:look|write\nREPLY:worked",
      ["--dangerously-bypass-approvals-and-sandbox", "--plan-tool"],
    )
    await waitForState(sandbox, id, "STOPPED")
    // A failing second turn adds the synthetic failure entries to the log.
    const failing = await runCli(sandbox, ["send", id, "Now fail.\nSTATUS:401"])
    assert.strictEqual(failing.code, 0, failing.stderr)
    await waitForState(sandbox, id, "DIED")
    const file = readFileSync(join(taskDir(sandbox, id), "task.log"))

    const run = await runCli(sandbox, ["log", "--json", id])

    assert.strictEqual(run.code, 0, run.stderr)
    assert.isTrue(Buffer.from(run.stdout, "utf8").equals(file), "stdout is the file's bytes")
    const entries = run.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { type: string })
    entries.forEach((e, i) => {
      assertSchema("log-entry", e, `line ${i + 1}`)
    })
    const types = new Set(entries.map((e) => e.type))
    for (const t of ["user_message", "thread.started", "item.completed", "turn.completed"]) {
      assert.isTrue(types.has(t), `the log has ${t}: ${[...types].join(", ")}`)
    }
    assert.isTrue(types.has("turn.failed") || types.has("invocation_failed"))
    const items = new Set(
      entries.flatMap((e) =>
        e.type === "item.completed" ? [(e as { item?: { type?: string } }).item?.type] : [],
      ),
    )
    for (const t of ["reasoning", "command_execution", "todo_list", "agent_message"]) {
      assert.isTrue(items.has(t), `the log has a ${t} item: ${[...items].join(", ")}`)
    }
    const outputs = entries.flatMap((e) => {
      const item = (e as { item?: { type?: string; aggregated_output?: string } }).item
      return e.type === "item.completed" && item?.type === "command_execution"
        ? [item.aggregated_output]
        : []
    })
    assert.deepStrictEqual(outputs, ["tab\there\ncafé ☕\n"], "command output, UTF-8 intact")

    const died = (await json(sandbox, ["status", "--json", id])) as TaskJson
    assertSchema("task", died, "status --json of a DIED task")
    assert.strictEqual(died.state, "DIED")
    assert.strictEqual((died.outcome as { kind: string }).kind, "failed")
  })

  it("start --wait --json and send --wait --json print the finished task", async () => {
    const { sandbox } = await setup()

    const run = await runCli(sandbox, [
      "start",
      "--skip-git-repo-check",
      "--wait",
      "--json",
      "Wait for me.\nREPLY:waited answer",
    ])

    assert.isNotEmpty(run.stdout, run.stderr)
    const task = JSON.parse(run.stdout) as TaskJson
    assert.strictEqual(run.code, 0, run.stderr)
    assertSchema("task", task, "start --wait --json")
    assert.strictEqual(task.state, "STOPPED")
    assert.strictEqual(task.last_result, "waited answer")
    const sent = await runCli(sandbox, ["send", "--wait", "--json", task.id, "Again.\nSTATUS:401"])
    assert.strictEqual(sent.code, 3, "the turn failed")
    const after = JSON.parse(sent.stdout) as TaskJson
    assertSchema("task", after, "send --wait --json")
    assert.strictEqual(after.id, task.id)
    // Printed when the prompt's turn ended: the worker may not have recorded DIED yet.
    assert.include(["RUNNING", "DIED"], after.state)
    assert.strictEqual((after.outcome as { kind: string }).kind, "failed")
  })

  it("an archived task, and one whose archive was interrupted, still conform", async () => {
    const { sandbox } = await setup()
    const done = fakeId(1)
    await writeFakeTask(sandbox, done, {
      last_outcome: { kind: "completed", at: "2025-01-02T03:05:06.000Z" },
      usage: {
        input_tokens: 10,
        cached_input_tokens: 0,
        output_tokens: 5,
        reasoning_output_tokens: 0,
      },
      turns: 1,
    })
    const halfway = fakeId(2)
    const dir = await writeFakeTask(sandbox, halfway)
    const metaPath = join(dir, "task.json")
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as Record<string, unknown>
    writeFileSync(metaPath, JSON.stringify({ ...meta, state: "ARCHIVED" }))
    const archive = await runCli(sandbox, ["archive", done])
    assert.strictEqual(archive.code, 0, archive.stderr)

    const archived = (await json(sandbox, ["status", "--json", done])) as TaskJson
    const interrupted = (await json(sandbox, ["status", "--json", halfway])) as TaskJson
    const all = (await json(sandbox, ["ls", "-a", "--json"])) as ReadonlyArray<TaskJson>

    assertSchema("task", archived, "archived")
    assert.strictEqual(archived.state, "ARCHIVED")
    assert.strictEqual(archived.archived, true)
    // A task recorded before cache writes were counted reports 0 for them.
    assert.deepStrictEqual(archived.usage, {
      input_tokens: 10,
      cached_input_tokens: 0,
      cache_write_input_tokens: 0,
      output_tokens: 5,
      reasoning_output_tokens: 0,
    })
    assertSchema("task", interrupted, "interrupted archive")
    assert.strictEqual(interrupted.state, "ARCHIVED")
    assert.strictEqual(interrupted.archived, false)
    assertSchema("task-list", all, "ls -a --json")
    assert.strictEqual(all.length, 2)
  })

  // BUG (src/cli/commands/status.ts, `print`): `status --json UNKNOWN` (one explicit id) prints `[]`
  // on stdout, an array where one id documents one object (docs/json-output.md), so
  // `status --json ID | jq .state` fails on the output rather than on the exit code. Expected:
  // nothing on stdout, the error on stderr, exit 1. Suggested fix: print only when a view exists.
  it("status --json with one unknown id prints no JSON of the wrong shape", async () => {
    const { sandbox } = await setup()

    const run = await runCli(sandbox, ["status", "--json", "0199ffff"])

    assert.strictEqual(run.code, 1)
    assert.include(run.stderr, "0199ffff")
    assert.strictEqual(run.stdout, "")
  })
})
