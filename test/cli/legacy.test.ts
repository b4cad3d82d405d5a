import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { type OpenCliWorld, openCliWorld } from "../support/cliInProcess.js"
import {
  ALL_ERAS,
  archivedDir,
  type Era,
  EXEC,
  FLAT,
  LISTING,
  MIXED,
  MIXED_ORDER,
  PREDATES,
  PROTO,
  readAsRust,
  seedLegacyStore,
  snapshot,
  tableRows,
} from "../support/legacyStores.js"

// Stores written by the Rust codex-tasks, read through the CLI in-process (the commands' parse,
// handlers and exit codes on the public fakes): listing, status, log, archive and the refusals.
// test/e2e/legacy.test.ts drives the built CLI and the real codex for what needs them.

const worlds: Array<OpenCliWorld> = []
afterEach(async () => {
  for (const w of worlds.splice(0).reverse()) await w.close()
})

const setup = async (eras: ReadonlyArray<Era>) => {
  const world = await openCliWorld([], (root) => seedLegacyStore(root, eras))
  worlds.push(world)
  return world
}

const cli = async (world: OpenCliWorld, args: ReadonlyArray<string>, code = 0) => {
  const run = await world.run(args)
  assert.strictEqual(run.code, code, `${args.join(" ")}: ${run.stderr}`)
  return run
}

describe("stores written by the Rust tool, through the CLI in-process", () => {
  it("`ls -a` lists each store and a store mixing all three formats, newest first", async () => {
    for (const era of ALL_ERAS) {
      const sandbox = await setup([era])
      const run = await cli(sandbox, ["ls", "-a"])
      assert.strictEqual(run.stderr, "")
      assert.deepStrictEqual(tableRows(run.stdout), LISTING[era], era)
      const active = await cli(sandbox, ["ls"])
      assert.deepStrictEqual(
        tableRows(active.stdout),
        LISTING[era].filter(([, s]) => s !== "ARCHIVED"),
      )
    }
    const sandbox = await setup(ALL_ERAS)
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
    const sandbox = await setup(ALL_ERAS)
    const before = snapshot(sandbox.root)
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
    const protoLog = join(sandbox.root, PROTO.idle, "task.log")
    assert.strictEqual(
      (await cli(sandbox, ["log", PROTO.idle])).stdout,
      readFileSync(protoLog, "utf8"),
    )
    const flatLog = join(sandbox.root, `${FLAT.stopped}.log`)
    assert.strictEqual(
      (await cli(sandbox, ["log", FLAT.stopped])).stdout,
      readFileSync(flatLog, "utf8"),
    )
    assert.strictEqual(
      (await cli(sandbox, ["log", "--json", FLAT.done])).stdout,
      readFileSync(join(sandbox.root, "done", `${FLAT.done}.log`), "utf8"),
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
    assert.deepStrictEqual(snapshot(sandbox.root), before)
  })

  it("archives a task of each kind into the dated layout under the current names", async () => {
    const sandbox = await setup(ALL_ERAS)
    writeFileSync(join(sandbox.root, `${FLAT.stopped}.pid`), "4194000\n")
    const run = await cli(sandbox, ["archive", EXEC.stopped, PROTO.idle, FLAT.stopped])
    for (const id of [EXEC.stopped, PROTO.idle, FLAT.stopped])
      assert.match(
        run.stdout,
        new RegExp(`Task ${id} archived to .*/archive/\\d{4}/\\d{2}/\\d{2}/${id}\\.`),
      )

    const exec = archivedDir(sandbox.root, EXEC.stopped)
    assert.isDefined(exec)
    // task.json.prev: the record before archiving (kept by every update of a task directory)
    assert.deepStrictEqual(readdirSync(exec ?? "").sort(), [
      "task.json",
      "task.json.prev",
      "task.log",
      "task.result",
    ])
    const proto = archivedDir(sandbox.root, PROTO.idle) ?? ""
    assert.deepStrictEqual(readdirSync(proto).sort(), [
      "task.json",
      "task.json.prev",
      "task.log",
      "task.pid",
      "task.result",
    ])
    const flat = archivedDir(sandbox.root, FLAT.stopped) ?? ""
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
    assert.isFalse(existsSync(join(sandbox.root, EXEC.stopped)))
    assert.isFalse(existsSync(join(sandbox.root, PROTO.idle)))
    assert.deepStrictEqual(
      readdirSync(sandbox.root).filter((n) => n.startsWith(FLAT.stopped)),
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
    const sandbox = await setup(ALL_ERAS)
    const before = snapshot(sandbox.root)
    for (const id of [PROTO.idle, FLAT.stopped]) {
      const run = await cli(sandbox, ["send", id.slice(0, 8), "Continue, please."], 1)
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(run.stderr.trim(), `codex-tasks: ${PREDATES(id)}`)
    }
    assert.deepStrictEqual(snapshot(sandbox.root), before)
    assert.strictEqual(sandbox.codexRuns(), 0)
  })
})
