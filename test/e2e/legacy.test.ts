import { execFileSync } from "node:child_process"
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { cp, mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Schema } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import {
  type CliSandbox,
  makeCliSandbox,
  readLog,
  runCli,
  taskDir,
  taskProcesses,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { runCodex } from "../support/modelServerCodex.js"

// Stores written by the Rust codex-tasks (../shared/legacy-stores, copied into fixtures/), driven
// through the built CLI; `send` goes through the real codex against the scripted model server.

const FIXTURES = new URL("../../fixtures/legacy-stores/", import.meta.url).pathname

const EXEC = {
  stopped: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d",
  lost: "0199d7c3-0a11-7b22-8c33-4d4e5f607182",
  died: "0199d7c4-1b2c-7d3e-9f40-5162738495a6",
  archived: "0199d7b0-aaaa-7bbb-8ccc-dddddddddddd",
}
const PROTO = {
  idle: "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
  archived: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
}
const FLAT = {
  stopped: "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a4b",
  done: "1c2d3e4f-5061-4b72-8c83-9d9e8f7a6b5c",
}

type Era = "exec-era" | "proto-era" | "flat-era"

/** What `ls -a` shows for each store, newest first: [id, state]. */
const LISTING: Record<Era, ReadonlyArray<readonly [string, string]>> = {
  "exec-era": [
    [EXEC.died, "DIED"],
    [EXEC.lost, "DIED"],
    [EXEC.stopped, "STOPPED"],
    [EXEC.archived, "ARCHIVED"],
  ],
  "proto-era": [
    [PROTO.archived, "ARCHIVED"],
    [PROTO.idle, "STOPPED"],
  ],
  "flat-era": [
    [FLAT.done, "ARCHIVED"],
    [FLAT.stopped, "STOPPED"],
  ],
}
const ALL_ERAS: ReadonlyArray<Era> = ["exec-era", "proto-era", "flat-era"]
const MIXED = ALL_ERAS.flatMap((era) => LISTING[era])
/** The mixed store's listing, newest first (by created_at). */
const MIXED_ORDER = [
  EXEC.died,
  EXEC.lost,
  EXEC.stopped,
  EXEC.archived,
  PROTO.archived,
  PROTO.idle,
  FLAT.done,
  FLAT.stopped,
]

const PREDATES = (id: string) =>
  `Task ${id} predates Codex thread ids (created by codex proto) and cannot be resumed; start a new task.`

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A sandbox whose store holds copies of `eras` (merged), with the FIFOs the Rust tool left. */
const setup = async (eras: ReadonlyArray<Era>) => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  await mkdir(sandbox.storeRoot, { recursive: true })
  for (const era of eras) await cp(join(FIXTURES, era), sandbox.storeRoot, { recursive: true })
  execFileSync("chmod", ["-R", "u+w", sandbox.storeRoot])
  // The Rust tool left its roots 0755; the first command tightens that with a notice on stderr
  // (test/e2e/storeRoot.test.ts). These tests start from a root that is already private.
  execFileSync("chmod", ["700", sandbox.storeRoot])
  if (eras.includes("proto-era")) mkfifo(join(sandbox.storeRoot, PROTO.idle, "task.pipe"))
  if (eras.includes("flat-era")) mkfifo(join(sandbox.storeRoot, `${FLAT.stopped}.pipe`))
  return { server, sandbox }
}

const mkfifo = (path: string) => execFileSync("mkfifo", [path])

const cli = async (sandbox: CliSandbox, args: ReadonlyArray<string>, code = 0) => {
  const run = await runCli(sandbox, args)
  assert.strictEqual(run.code, code, `${args.join(" ")}: ${run.stderr}`)
  return run
}

/** `ls` table rows as [id, state]; the table is aligned, so the state is found by its column. */
const tableRows = (stdout: string): ReadonlyArray<readonly [string, string]> => {
  const [header = "", ...lines] = stdout.trimEnd().split("\n")
  const at = header.indexOf("State")
  return lines.map((l) => [l.split(" ")[0] ?? "", l.slice(at).split(" ")[0] ?? ""] as const)
}

/** Every file under `dir` with its content (FIFOs named): a store is untouched if this is equal. */
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name)
      if (e.isDirectory()) walk(path)
      else out[path.slice(dir.length)] = e.isFIFO() ? "<fifo>" : readFileSync(path, "utf8")
    }
  }
  walk(dir)
  return out
}

/** The dated archive directory a task was moved to (found by listing, not by today's date). */
const archivedDir = (sandbox: CliSandbox, id: string): string | undefined => {
  const base = join(sandbox.storeRoot, "archive")
  for (const y of readdirSync(base))
    for (const m of readdirSync(join(base, y)))
      for (const d of readdirSync(join(base, y, m)))
        if (existsSync(join(base, y, m, d, id, "task.json"))) return join(base, y, m, d, id)
  return undefined
}

/**
 * What the Rust tool reads from `task.json` (its serde struct): these fields with these types,
 * `Option`s absent or null, a state of its enum, RFC 3339 times; unknown fields are ignored.
 */
const RustTaskJson = Schema.Struct({
  id: Schema.String,
  title: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  state: Schema.Literal("RUNNING", "STOPPED", "DIED", "ARCHIVED"),
  created_at: Schema.String.pipe(Schema.filter((s) => !Number.isNaN(Date.parse(s)))),
  updated_at: Schema.String.pipe(Schema.filter((s) => !Number.isNaN(Date.parse(s)))),
  last_result: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  initial_prompt: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  last_prompt: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  config_path: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  working_dir: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
})
const readAsRust = (path: string) =>
  Schema.decodeUnknownSync(RustTaskJson)(JSON.parse(readFileSync(path, "utf8")))

describe("stores written by the Rust tool, through the CLI", () => {
  it("`ls -a` lists each store and a store mixing all three formats, newest first", async () => {
    for (const era of ALL_ERAS) {
      const { sandbox } = await setup([era])
      const run = await cli(sandbox, ["ls", "-a"])
      assert.strictEqual(run.stderr, "")
      assert.deepStrictEqual(tableRows(run.stdout), LISTING[era], era)
      const active = await cli(sandbox, ["ls"])
      assert.deepStrictEqual(
        tableRows(active.stdout),
        LISTING[era].filter(([, s]) => s !== "ARCHIVED"),
      )
    }
    const { sandbox } = await setup(ALL_ERAS)
    const run = await cli(sandbox, ["ls", "-a"])
    assert.strictEqual(run.stderr, "", "no broken task reported")
    assert.deepStrictEqual(
      tableRows(run.stdout).map(([id]) => id),
      MIXED_ORDER,
    )
    assert.deepStrictEqual(new Map(tableRows(run.stdout)), new Map(MIXED))
    const json = JSON.parse((await cli(sandbox, ["ls", "-a", "--json"])).stdout) as Array<{
      id: string
      state: string
    }>
    assert.deepStrictEqual(
      json.map((t) => t.id),
      MIXED_ORDER,
    )
  })

  it("`status` shows every task (text and JSON) and `log` prints every transcript, changing nothing", async () => {
    const { sandbox } = await setup(ALL_ERAS)
    const before = snapshot(sandbox.storeRoot)
    for (const [id, state] of MIXED) {
      const text = await cli(sandbox, ["status", "--time-format", "iso", id])
      assert.include(text.stdout, `Task ID: ${id}\n`)
      assert.include(text.stdout, `State: ${state}\n`)
      const json = JSON.parse((await cli(sandbox, ["status", "--json", id])).stdout)
      assert.strictEqual(json.id, id)
      assert.strictEqual(json.state, state)
      assert.isNull(json.pid)
      const log = await cli(sandbox, ["log", id])
      assert.notStrictEqual(log.stdout, "", `log of ${id}`)
      assert.strictEqual(log.stderr, "")
    }
    // Exec era: what the Rust tool knew, plus task.result and the transcript as codex-exec text.
    const stopped = JSON.parse((await cli(sandbox, ["status", "--json", EXEC.stopped])).stdout)
    assert.strictEqual(stopped.title, "Investigate bug")
    assert.strictEqual(stopped.created_at, "2025-10-12T09:15:02.412887301+00:00")
    assert.strictEqual(
      stopped.last_result,
      "The spike comes from the synchronous DNS lookup in the request path.",
    )
    assert.strictEqual(stopped.working_dir, "/home/u/src/api")
    const lost = JSON.parse((await cli(sandbox, ["status", "--json", EXEC.lost])).stdout)
    assert.strictEqual(lost.outcome.kind, "worker_lost")
    const execLog = (await cli(sandbox, ["log", EXEC.stopped])).stdout
    for (const part of [
      "user\nWhy is request latency spiking?",
      "rg -n latency src",
      "tokens used",
    ])
      assert.include(execLog, part)
    assert.include((await cli(sandbox, ["log", EXEC.archived])).stdout, "file update")
    assert.include((await cli(sandbox, ["log", EXEC.died])).stdout, "stream disconnected")
    // Proto and flat era: the text log is printed as it is.
    const protoLog = join(sandbox.storeRoot, PROTO.idle, "task.log")
    assert.strictEqual(
      (await cli(sandbox, ["log", PROTO.idle])).stdout,
      readFileSync(protoLog, "utf8"),
    )
    const flatLog = join(sandbox.storeRoot, `${FLAT.stopped}.log`)
    assert.strictEqual(
      (await cli(sandbox, ["log", FLAT.stopped])).stdout,
      readFileSync(flatLog, "utf8"),
    )
    assert.strictEqual(
      (await cli(sandbox, ["log", "--json", FLAT.done])).stdout,
      readFileSync(join(sandbox.storeRoot, "done", `${FLAT.done}.log`), "utf8"),
    )
    assert.strictEqual(
      (await cli(sandbox, ["log", "-n", "1", PROTO.idle])).stdout,
      "[2025-09-27T08:01:10] tokens used: 12,345\n",
    )
    const proto = JSON.parse((await cli(sandbox, ["status", "--json", PROTO.idle])).stdout)
    assert.strictEqual(proto.last_result, "The spike comes from the synchronous DNS lookup.")
    const flat = await cli(sandbox, ["status", FLAT.stopped])
    assert.include(flat.stdout, "Last Result: Hello from the flat era.")
    const done = JSON.parse((await cli(sandbox, ["status", "--json", FLAT.done])).stdout)
    assert.strictEqual(done.archived, true)
    // Reading migrates nothing on disk (IDLE stays IDLE until we write for another reason).
    assert.deepStrictEqual(snapshot(sandbox.storeRoot), before)
  })

  it("archives a task of each kind into the dated layout under the current names", async () => {
    const { sandbox } = await setup(ALL_ERAS)
    writeFileSync(join(sandbox.storeRoot, `${FLAT.stopped}.pid`), "4194000\n")
    const run = await cli(sandbox, ["archive", EXEC.stopped, PROTO.idle, FLAT.stopped])
    for (const id of [EXEC.stopped, PROTO.idle, FLAT.stopped])
      assert.match(
        run.stdout,
        new RegExp(`Task ${id} archived to .*/archive/\\d{4}/\\d{2}/\\d{2}/${id}\\.`),
      )

    const exec = archivedDir(sandbox, EXEC.stopped)
    assert.isDefined(exec)
    assert.deepStrictEqual(readdirSync(exec ?? "").sort(), ["task.json", "task.log", "task.result"])
    const proto = archivedDir(sandbox, PROTO.idle) ?? ""
    assert.deepStrictEqual(readdirSync(proto).sort(), [
      "task.json",
      "task.log",
      "task.pid",
      "task.result",
    ])
    const flat = archivedDir(sandbox, FLAT.stopped) ?? ""
    assert.deepStrictEqual(readdirSync(flat).sort(), [
      "task.json",
      "task.log",
      "task.pid",
      "task.result",
    ])
    assert.strictEqual(readFileSync(join(flat, "task.result"), "utf8"), "Hello from the flat era.")
    for (const dir of [exec ?? "", proto, flat]) {
      const meta = readAsRust(join(dir, "task.json"))
      assert.strictEqual(meta.state, "ARCHIVED")
    }
    // Nothing is left behind in the active area: no directory, no flat file, no FIFO.
    assert.isFalse(existsSync(join(sandbox.storeRoot, EXEC.stopped)))
    assert.isFalse(existsSync(join(sandbox.storeRoot, PROTO.idle)))
    assert.deepStrictEqual(
      readdirSync(sandbox.storeRoot).filter((n) => n.startsWith(FLAT.stopped)),
      [],
    )
    assert.isFalse(readdirSync(flat).some((n) => lstatSync(join(flat, n)).isFIFO()))
    assert.isFalse(readdirSync(proto).some((n) => lstatSync(join(proto, n)).isFIFO()))

    const listed = new Map(tableRows((await cli(sandbox, ["ls", "-a"])).stdout))
    for (const id of [EXEC.stopped, PROTO.idle, FLAT.stopped])
      assert.strictEqual(listed.get(id), "ARCHIVED")
    assert.strictEqual(
      (await cli(sandbox, ["log", FLAT.stopped])).stdout,
      "[2025-09-21T18:00:01] User instructions:\nSay hello\n[2025-09-21T18:00:03] codex\nHello from the flat era.\n",
    )
    const again = await cli(sandbox, ["archive", FLAT.stopped])
    assert.include(again.stdout, "is already archived")
    const send = await cli(sandbox, ["send", FLAT.stopped, "hello again"], 1)
    assert.include(send.stderr, `Task ${FLAT.stopped} is archived.`)
  })

  it("refuses `send` to proto- and flat-era tasks with the reason, changing nothing", async () => {
    const { sandbox, server } = await setup(ALL_ERAS)
    const before = snapshot(sandbox.storeRoot)
    for (const id of [PROTO.idle, FLAT.stopped]) {
      const run = await cli(sandbox, ["send", id.slice(0, 8), "Continue, please."], 1)
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(run.stderr.trim(), `codex-tasks: ${PREDATES(id)}`)
    }
    assert.deepStrictEqual(snapshot(sandbox.storeRoot), before)
    assert.strictEqual(server.requests.length, 0)
  })

  it("`send` to the example exec-era task tries its thread id and ends DIED with codex's reason", async () => {
    const { sandbox, server } = await setup(["exec-era"])
    // As copied, the task's working directory does not exist on this machine.
    // (`send` without --wait: see the report about `--wait` reading state and liveness apart.)
    const missing = await cli(sandbox, ["send", EXEC.died, "Try again."])
    assert.strictEqual(missing.stdout, `Task ${EXEC.died}: prompt started a new turn.\n`)
    const gone = await waitForState(sandbox, EXEC.died, "DIED", {
      extra: (m) => m.state === "DIED" && m.last_prompt === "Try again.",
    })
    assert.strictEqual(gone.meta.last_outcome?.error_class, "ConfigRejected")
    assert.include(
      gone.meta.last_outcome?.message,
      "The working directory /home/u/src/site does not exist",
    )
    await waitNoProcesses(sandbox, EXEC.died)

    // With its directory present, codex itself looks for the thread: it is not in this
    // CODEX_HOME ("no rollout found"), so the task ends DIED instead of starting a new thread.
    execFileSync("git", ["init", "-q", sandbox.cwd])
    const path = join(taskDir(sandbox, EXEC.died), "task.json")
    const meta = JSON.parse(readFileSync(path, "utf8"))
    writeFileSync(path, JSON.stringify({ ...meta, working_dir: sandbox.cwd }))
    await cli(sandbox, ["send", EXEC.died, "Try again.\nREPLY:again"])
    const died = await waitForState(sandbox, EXEC.died, "DIED", {
      extra: (m) => m.state === "DIED" && m.last_prompt === "Try again.\nREPLY:again",
    })
    const outcome = died.meta.last_outcome
    assert.strictEqual(outcome?.error_class, "UnknownThread", JSON.stringify(outcome))
    assert.include(outcome?.message, "no rollout found")
    assert.strictEqual(server.requests.length, 0, "codex never reached the model")
    const log = await readLog(sandbox, EXEC.died)
    assert.deepStrictEqual(
      log.filter((e) => e.type === "user_message").map((e) => e.message),
      ["Write release notes for 0.4", "Try again.", "Try again.\nREPLY:again"],
    )
    assert.deepStrictEqual(
      log.filter((e) => e.type === "thread.started").map((e) => e.thread_id),
      [EXEC.died],
      "no new thread was started",
    )
    assert.deepStrictEqual(
      readdirSync(sandbox.storeRoot)
        .filter((n) => !n.startsWith("."))
        .sort(),
      [EXEC.stopped, EXEC.lost, EXEC.died, "archive"].sort(),
    )
    await waitNoProcesses(sandbox, EXEC.died)
  })

  it("`send` to an exec-era task of a real thread resumes it under its id, keeping unknown fields", async () => {
    const { sandbox, server } = await setup([])
    // A real thread in this CODEX_HOME, recorded the way the Rust tool did, in a git checkout (the
    // Rust tool recorded no exec options, so the resume runs without --skip-git-repo-check).
    execFileSync("git", ["init", "-q", sandbox.cwd])
    const first = await runCodex(
      { home: sandbox.home, cwd: sandbox.cwd, dispose: async () => {} },
      "Where is the bug?\nREPLY:in the parser",
    )
    assert.strictEqual(first.code, 0, first.stderr)
    const id = first.threadId ?? ""
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/)
    const dir = taskDir(sandbox, id)
    await mkdir(dir, { recursive: true })
    const rust = {
      id,
      title: "Find the bug",
      state: "STOPPED",
      created_at: "2025-10-14T12:00:00.123456789+00:00",
      updated_at: "2025-10-14T12:00:09+00:00",
      last_result: "in the parser",
      initial_prompt: "Where is the bug?\nREPLY:in the parser",
      last_prompt: "Where is the bug?\nREPLY:in the parser",
      working_dir: sandbox.cwd,
      rust_future_field: { kept: [1, "two"] },
    }
    await writeFile(join(dir, "task.json"), `${JSON.stringify(rust, null, 2)}\n`)
    const events = first.events.map((e) => JSON.stringify(e))
    await writeFile(
      join(dir, "task.log"),
      `${[JSON.stringify({ type: "user_message", message: rust.initial_prompt }), ...events].join("\n")}\n`,
    )
    await writeFile(join(dir, "task.result"), "in the parser")

    const run = await cli(sandbox, ["send", "--json", id.slice(0, 13), "Fix it.\nREPLY:fixed"])

    assert.deepStrictEqual(JSON.parse(run.stdout), { id, seq: 1, status: "started" })
    const done = await waitForState(sandbox, id, "STOPPED", {
      extra: (m) => m.last_prompt === "Fix it.\nREPLY:fixed",
    })
    assert.strictEqual(done.outcome?.kind, "completed")
    assert.strictEqual(done.meta.last_result, "fixed")
    const status = JSON.parse((await cli(sandbox, ["status", "--json", id])).stdout)
    assert.deepStrictEqual([status.id, status.state, status.last_result], [id, "STOPPED", "fixed"])
    const resumed = server.requests.filter(
      (r) => (r.body as { prompt_cache_key?: unknown } | undefined)?.prompt_cache_key === id,
    )
    assert.strictEqual(resumed.length, 2, "both turns on the one thread")
    assert.include(JSON.stringify(resumed[1]?.body), "in the parser", "the first turn is history")
    const log = await readLog(sandbox, id)
    assert.deepStrictEqual(
      log.filter((e) => e.type === "thread.started").map((e) => e.thread_id),
      [id, id],
    )
    assert.deepStrictEqual(
      readdirSync(sandbox.storeRoot).filter((n) => !n.startsWith(".")),
      [id],
    )
    assert.strictEqual(readFileSync(join(dir, "task.result"), "utf8"), "fixed")
    // Our rewrite keeps what we do not know and stays readable by the Rust tool.
    const written = JSON.parse(await readFile(join(dir, "task.json"), "utf8"))
    assert.deepStrictEqual(written.rust_future_field, rust.rust_future_field)
    assert.strictEqual(written.created_at, rust.created_at)
    assert.strictEqual(written.title, rust.title)
    const asRust = readAsRust(join(dir, "task.json"))
    assert.deepStrictEqual(
      [asRust.id, asRust.state, asRust.last_prompt],
      [id, "STOPPED", "Fix it.\nREPLY:fixed"],
    )
    await waitNoProcesses(sandbox, id)
  })

  it("`stop -a` and `archive -a` handle a mixed store with one of our tasks running", async () => {
    const { sandbox } = await setup(ALL_ERAS)
    const started = await cli(sandbox, [
      "start",
      "--skip-git-repo-check",
      "-t",
      "ours",
      "Wait.\nRUN:sleep 300",
    ])
    const ours = started.stdout.trim()
    await waitFor("the command to run", async () => {
      const log = await readLog(sandbox, ours).catch(() => [])
      return log.some((e) => e.type === "item.started") ? true : undefined
    })
    const legacyBefore = snapshot(sandbox.storeRoot)

    const stop = await cli(sandbox, ["stop", "-a"])
    assert.strictEqual(stop.stdout, `Task ${ours} stopped.\nStopped 1 task(s).\n`)
    await waitForState(sandbox, ours, "STOPPED")
    await waitNoProcesses(sandbox, ours)
    const after = snapshot(sandbox.storeRoot)
    for (const [path, content] of Object.entries(legacyBefore))
      if (!path.includes(ours) && !path.startsWith("/."))
        assert.strictEqual(after[path], content, `${path} untouched by stop`)

    const archive = await cli(sandbox, ["archive", "-a"])
    const archivedIds = [...archive.stdout.matchAll(/^Task (\S+) archived to /gm)].map((m) => m[1])
    assert.deepStrictEqual(
      archivedIds.sort(),
      [ours, EXEC.stopped, EXEC.lost, EXEC.died, PROTO.idle, FLAT.stopped].sort(),
    )
    assert.include(archive.stdout, "Archived 6 task(s); skipped 0 running.")
    assert.strictEqual((await cli(sandbox, ["ls"])).stdout, "No tasks found.\n")
    assert.deepStrictEqual(
      readdirSync(sandbox.storeRoot)
        .filter((n) => !n.startsWith("."))
        .sort(),
      ["archive", "done"],
    )
    const all = new Map(tableRows((await cli(sandbox, ["ls", "-a"])).stdout))
    assert.strictEqual(all.size, 9)
    assert.deepStrictEqual([...new Set(all.values())], ["ARCHIVED"])
    // Our own task, archived, is still what the Rust tool can read.
    assert.strictEqual(
      readAsRust(join(archivedDir(sandbox, ours) ?? "", "task.json")).title,
      "ours",
    )
  })
})

/** The task's processes are gone (the worker writes its last state just before exiting). */
const waitNoProcesses = async (sandbox: CliSandbox, id: string) => {
  const pids = () => {
    const p = taskProcesses(sandbox, id)
    return [...(p.worker === undefined ? [] : [p.worker]), ...p.marked]
  }
  await waitFor(
    "the task's processes to exit",
    () => (pids().length === 0 ? true : undefined),
    10_000,
  ).catch(() => undefined)
  assert.deepStrictEqual(pids(), [], "no process of the task is left")
}
