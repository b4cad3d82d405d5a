import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
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
import {
  ALL_ERAS,
  archivedDir,
  type Era,
  EXEC,
  FLAT,
  PROTO,
  readAsRust,
  seedLegacyStore,
  snapshot,
  tableRows,
} from "../support/legacyStores.js"
import { runCodex } from "../support/modelServerCodex.js"

// Stores written by the Rust codex-tasks (../shared/legacy-stores, copied into fixtures/), driven
// through the built CLI where the real codex runs (against the scripted model server) or processes
// are involved; reading, archiving and refusals run in-process (test/cli/legacy.test.ts).

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
  seedLegacyStore(sandbox.storeRoot, eras)
  return { server, sandbox }
}

const cli = async (sandbox: CliSandbox, args: ReadonlyArray<string>, code = 0) => {
  const run = await runCli(sandbox, args)
  assert.strictEqual(run.code, code, `${args.join(" ")}: ${run.stderr}`)
  return run
}

describe("stores written by the Rust tool, through the CLI", () => {
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

  it("`send --backend app-server` to the example exec-era task asks codex for its thread (thread/resume): DIED, no new thread", async () => {
    const { sandbox, server } = await setup(["exec-era"])
    execFileSync("git", ["init", "-q", sandbox.cwd])
    const path = join(taskDir(sandbox, EXEC.died), "task.json")
    const meta = JSON.parse(readFileSync(path, "utf8"))
    writeFileSync(path, JSON.stringify({ ...meta, working_dir: sandbox.cwd }))

    await cli(sandbox, ["send", "--backend", "app-server", EXEC.died, "Try again.\nREPLY:again"])

    const died = await waitForState(sandbox, EXEC.died, "DIED", {
      extra: (m) => m.last_prompt === "Try again.\nREPLY:again",
    })
    const outcome = died.meta.last_outcome
    assert.strictEqual(outcome?.error_class, "UnknownThread", JSON.stringify(outcome))
    assert.include(outcome?.message, `no stored thread ${EXEC.died}`)
    assert.strictEqual(server.requests.length, 0, "codex never reached the model")
    const log = await readLog(sandbox, EXEC.died)
    assert.deepStrictEqual(
      log.filter((e) => e.type === "thread.started").map((e) => e.thread_id),
      [EXEC.died],
      "no new thread was started",
    )
    const asRust = readAsRust(path)
    assert.deepStrictEqual([asRust.id, asRust.state], [EXEC.died, "DIED"])
    await waitNoProcesses(sandbox, EXEC.died)
  })

  it.each([
    ["exec", []],
    ["app-server", ["--backend", "app-server"]],
  ] as const)(
    "`send` (%s) to an exec-era task of a real thread resumes it under its id, keeping unknown fields",
    async (backend, flags) => {
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

      const run = await cli(sandbox, [
        "send",
        ...flags,
        "--json",
        id.slice(0, 13),
        "Fix it.\nREPLY:fixed",
      ])

      assert.deepStrictEqual(JSON.parse(run.stdout), { id, seq: 1, status: "started" })
      const done = await waitForState(sandbox, id, "STOPPED", {
        extra: (m) => m.last_prompt === "Fix it.\nREPLY:fixed",
      })
      assert.strictEqual(done.outcome?.kind, "completed")
      assert.strictEqual(done.meta.last_result, "fixed")
      assert.strictEqual(done.meta.exec?.backend ?? "exec", backend)
      const status = JSON.parse((await cli(sandbox, ["status", "--json", id])).stdout)
      assert.deepStrictEqual(
        [status.id, status.state, status.last_result],
        [id, "STOPPED", "fixed"],
      )
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
    },
  )

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
      readAsRust(join(archivedDir(sandbox.storeRoot, ours) ?? "", "task.json")).title,
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
