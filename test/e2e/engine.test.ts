import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import { RUN_MARKER_VAR } from "../../src/processes/Processes.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import {
  type ModelServer,
  type RecordedRequest,
  startModelServer,
} from "../../src/testing/index.js"
import {
  type CliSandbox,
  commandLine,
  makeCliSandbox,
  processesWithEnv,
  readLog,
  readRunRecord,
  runCli,
  storeEntries,
  taskDir,
  taskProcesses,
  taskState,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { isLive } from "../support/processes.js"

// The real CLI (dist/, built by `npm run build`) driving the real codex against the scripted
// model server. Each test has its own server, CODEX_HOME, store and working directory.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The backends every scenario here runs on (`start` reads CODEX_TASKS_BACKEND). */
const BACKENDS = ["exec", "app-server"] as const
let backend: (typeof BACKENDS)[number] = "exec"

const setup = async (options: { readonly codexBin?: string } = {}) => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const made = await makeCliSandbox(server, options)
  cleanups.push(made.dispose)
  const sandbox: CliSandbox = { ...made, env: { ...made.env, CODEX_TASKS_BACKEND: backend } }
  return { server, sandbox }
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** `start` in the sandbox; asserts it printed only an id. */
const start = async (sandbox: CliSandbox, prompt: string, flags: ReadonlyArray<string> = []) => {
  const run = await runCli(sandbox, ["start", "--skip-git-repo-check", ...flags, prompt])
  assert.strictEqual(run.code, 0, run.stderr)
  assert.match(run.stdout, /^\S+\n$/, "start prints only the id")
  const id = run.stdout.trim()
  assert.match(id, ID)
  return { id, ms: run.ms }
}

/** The model requests of one thread, in arrival order. */
const threadRequests = (server: ModelServer, id: string): ReadonlyArray<RecordedRequest> =>
  server.requests.filter(
    (r) => (r.body as { prompt_cache_key?: unknown } | undefined)?.prompt_cache_key === id,
  )

/** The user prompts a request carried (codex's own `<environment_context>` etc. left out). */
const promptsOf = (r: RecordedRequest | undefined) =>
  (r?.userTexts ?? []).filter((t) => !t.startsWith("<"))

const userMessages = (log: ReadonlyArray<Record<string, unknown>>) =>
  log.filter((e) => e.type === "user_message").map((e) => e.message)

const readResult = (sandbox: CliSandbox, id: string) =>
  readFileSync(join(taskDir(sandbox, id), "task.result"), "utf8")

const describeProcesses = (sandbox: CliSandbox, id: string) => {
  const left = taskProcesses(sandbox, id)
  return [...(left.worker === undefined ? [] : [left.worker]), ...left.marked].map(
    (pid) => `${pid}: ${commandLine(pid)}`,
  )
}

/** No process of the task is left: neither its worker nor anything carrying its run marker. */
const assertNoProcesses = (sandbox: CliSandbox, id: string) =>
  assert.deepStrictEqual(describeProcesses(sandbox, id), [], "processes of the task")

/** The worker writes its final state just before it exits: give it a moment to be gone. */
const waitNoProcesses = async (sandbox: CliSandbox, id: string) => {
  await waitFor(
    "the task's processes to exit",
    () => (describeProcesses(sandbox, id).length === 0 ? true : undefined),
    5_000,
  ).catch(() => undefined)
  assertNoProcesses(sandbox, id)
}

describe.each(BACKENDS)("task engine through the CLI, real codex, %s backend", (which) => {
  beforeEach(() => {
    backend = which
  })

  it("start → result → send → second result on the same thread", async () => {
    const { server, sandbox } = await setup()
    const { id } = await start(sandbox, "First question.\nREPLY:first answer", ["-t", "e2e"])

    const first = await waitForState(sandbox, id, "STOPPED")
    assert.strictEqual(first.meta.last_result, "first answer")
    assert.strictEqual(readResult(sandbox, id), "first answer")

    const send = await runCli(sandbox, ["send", id, "Second question.\nREPLY:second answer"])
    assert.strictEqual(send.code, 0, send.stderr)
    assert.include(send.stdout, "started")
    const done = await waitForState(sandbox, id, "STOPPED", { extra: (m) => m.turns === 2 })

    assert.strictEqual(done.meta.title, "e2e")
    assert.strictEqual(done.meta.initial_prompt, "First question.\nREPLY:first answer")
    assert.strictEqual(done.meta.last_prompt, "Second question.\nREPLY:second answer")
    assert.strictEqual(done.meta.last_result, "second answer")
    assert.strictEqual(done.outcome?.kind, "completed")
    assert.strictEqual(readResult(sandbox, id), "second answer")
    const requests = threadRequests(server, id)
    assert.strictEqual(requests.length, 2)
    assert.deepStrictEqual(promptsOf(requests[1]), [
      "First question.\nREPLY:first answer",
      "Second question.\nREPLY:second answer",
    ])
    assert.include(JSON.stringify(requests[1]?.body), "first answer", "the first reply is history")
    const log = await readLog(sandbox, id)
    assert.deepStrictEqual(
      log.filter((e) => e.type === "thread.started").map((e) => e.thread_id),
      [id, id],
    )
    assert.deepStrictEqual(userMessages(log), [
      "First question.\nREPLY:first answer",
      "Second question.\nREPLY:second answer",
    ])
    await waitNoProcesses(sandbox, id)
  })

  it("runs three prompts sent during a slow turn in order, once each", async () => {
    const { server, sandbox } = await setup()
    const { id } = await start(sandbox, "Slow one.\nDELAY:6000\nREPLY:slow done")
    const queued = ["A", "B", "C"].map((x) => `Queued ${x}.\nREPLY:${x} done`)
    for (const [i, prompt] of queued.entries()) {
      const send = await runCli(sandbox, ["send", id, prompt])
      assert.strictEqual(send.code, 0, send.stderr)
      assert.include(send.stdout, `queued at position ${i + 1}`)
    }

    const done = await waitForState(sandbox, id, "STOPPED", { extra: (m) => m.turns === 4 })

    const requests = threadRequests(server, id)
    const all = ["Slow one.\nDELAY:6000\nREPLY:slow done", ...queued]
    assert.deepStrictEqual(
      requests.map((r) => r.lastUserText),
      all,
    )
    requests.forEach((r, k) => {
      assert.deepStrictEqual(promptsOf(r), all.slice(0, k + 1), `turn ${k + 1} saw the ones before`)
    })
    // The first queued prompt reached the model only after the slow answer (6 s) was given.
    assert.isAtLeast((requests[1]?.receivedAt ?? 0) - (requests[0]?.receivedAt ?? 0), 6_000)
    assert.deepStrictEqual(userMessages(await readLog(sandbox, id)), all)
    assert.strictEqual(done.meta.last_result, "C done")
    assert.strictEqual(readResult(sandbox, id), "C done")
  })

  it("delivers 20 concurrent sends to a stopped task, each once, one turn at a time", async () => {
    const { server, sandbox } = await setup()
    const { id } = await start(sandbox, "Base.\nREPLY:base done")
    await waitForState(sandbox, id, "STOPPED")
    const prompts = Array.from({ length: 20 }, (_, i) => `Burst ${i + 1}.\nREPLY:burst ${i + 1}`)

    const sends = await Promise.all(prompts.map((p) => runCli(sandbox, ["send", id, p])))

    for (const send of sends) assert.strictEqual(send.code, 0, send.stderr)
    assert.isAtLeast(sends.filter((s) => s.stdout.includes("started")).length, 1)
    const done = await waitForState(sandbox, id, "STOPPED", {
      extra: (m) => m.turns === 21,
      timeoutMs: 90_000,
    })
    const requests = threadRequests(server, id)
    assert.strictEqual(requests.length, 21)
    const delivered = requests.slice(1).map((r) => r.lastUserText ?? "")
    assert.deepStrictEqual([...delivered].sort(), [...prompts].sort(), "each prompt exactly once")
    // Every turn saw every turn before it: no two invocations ever ran side by side.
    const all = ["Base.\nREPLY:base done", ...delivered]
    requests.forEach((r, k) => {
      assert.deepStrictEqual(promptsOf(r), all.slice(0, k + 1), `turn ${k + 1}`)
    })
    const log = await readLog(sandbox, id)
    assert.deepStrictEqual(userMessages(log), all)
    // In the transcript each prompt is followed by its own turn, never interleaved.
    const turnEnds = log.flatMap((e) =>
      e.type === "user_message" ? ["U"] : e.type === "turn.completed" ? ["C"] : [],
    )
    assert.strictEqual(turnEnds.join(""), "UC".repeat(21))
    assert.strictEqual(done.meta.last_result, delivered.at(-1)?.split("REPLY:")[1])
    await waitNoProcesses(sandbox, id)
  }, 120_000)

  it("stop during `RUN:sleep 300` ends STOPPED within seconds, no process left, queue dropped", async () => {
    const { server, sandbox } = await setup()
    const { id } = await start(sandbox, "Wait a while.\nRUN:sleep 300", [
      "--dangerously-bypass-approvals-and-sandbox",
    ])
    const dir = taskDir(sandbox, id)
    const runId = await waitFor("the run record", () => readRunRecord(dir))
    const sleeper = await waitFor("`sleep 300` to run", () =>
      processesWithEnv(RUN_MARKER_VAR, runId).find((pid) => commandLine(pid) === "sleep 300"),
    )
    const worker = readWorkerIdentity(dir)?.pid
    assert.isDefined(worker)
    const send = await runCli(sandbox, ["send", id, "Never runs.\nREPLY:nope"])
    assert.include(send.stdout, "queued at position 1")

    const stop = await runCli(sandbox, ["stop", id])

    assert.strictEqual(stop.code, 0, stop.stderr)
    assert.strictEqual(stop.stdout, `Task ${id} stopped.\n`)
    assert.isBelow(stop.ms, 10_000)
    assert.isFalse(isLive(worker!), "worker")
    assert.isFalse(isLive(sleeper), "sleep 300")
    assert.deepStrictEqual(processesWithEnv(RUN_MARKER_VAR, runId), [], "codex and its commands")
    assertNoProcesses(sandbox, id)
    const state = await taskState(sandbox, id)
    assert.strictEqual(state.state, "STOPPED")
    assert.strictEqual(state.outcome?.kind, "interrupted")
    assert.strictEqual(state.meta.dropped_prompts, 1)
    const dropped = (await readLog(sandbox, id)).filter((e) => e.type === "prompts_dropped")
    assert.deepStrictEqual(
      dropped.map((e) => [e.count, e.prompts]),
      [[1, ["Never runs.\nREPLY:nope"]]],
    )
    assert.isFalse(server.requests.some((r) => r.lastUserText?.startsWith("Never runs.")))
    assert.isFalse(existsSync(join(dir, "task.result")), "an interrupted turn leaves no result")
  })

  it("a worker killed mid-turn reads DIED, and send resumes the task", async () => {
    const { server, sandbox } = await setup()
    const { id } = await start(sandbox, "Stall.\nDELAY:60000\nREPLY:never")
    await server.waitForRequests(1)
    const dir = taskDir(sandbox, id)
    const worker = readWorkerIdentity(dir)?.pid
    assert.isDefined(worker)
    assert.strictEqual(readFileSync(join(dir, "task.pid"), "utf8").trim(), String(worker))
    const oldRun = readRunRecord(dir)!

    process.kill(worker!, "SIGKILL")
    await waitFor("the worker to die", () => (isLive(worker!) ? undefined : true))

    const lost = await taskState(sandbox, id)
    assert.strictEqual(lost.meta.state, "RUNNING", "stored state")
    assert.strictEqual(lost.state, "DIED", "effective state")
    assert.strictEqual(lost.outcome?.kind, "worker_lost")

    const send = await runCli(sandbox, ["send", id, "After the crash.\nREPLY:recovered"])
    assert.strictEqual(send.code, 0, send.stderr)
    assert.include(send.stdout, "started")
    const done = await waitForState(sandbox, id, "STOPPED", {
      extra: (m) => m.last_result === "recovered",
    })
    assert.strictEqual(done.outcome?.kind, "completed")
    assert.strictEqual(readResult(sandbox, id), "recovered")
    assert.deepStrictEqual(processesWithEnv(RUN_MARKER_VAR, oldRun), [], "the lost run's codex")
    const last = threadRequests(server, id).at(-1)
    assert.deepStrictEqual(promptsOf(last), [
      "Stall.\nDELAY:60000\nREPLY:never",
      "After the crash.\nREPLY:recovered",
    ])
    const log = await readLog(sandbox, id)
    assert.deepStrictEqual(
      [...new Set(log.filter((e) => e.type === "thread.started").map((e) => e.thread_id))],
      [id],
    )
    await waitNoProcesses(sandbox, id)
  })

  it("fails `start` with exit 1 and a clear message when codex is missing", async () => {
    const { sandbox } = await setup({ codexBin: "/nonexistent/codex" })

    const run = await runCli(sandbox, ["start", "--skip-git-repo-check", "Hello."])

    assert.strictEqual(run.code, 1)
    assert.strictEqual(run.stdout, "")
    assert.match(run.stderr, /codex executable was not found/)
    assert.include(run.stderr, "/nonexistent/codex")
    assert.notMatch(run.stderr, /\n\s+at /, "no stack trace")
    assert.deepStrictEqual(storeEntries(sandbox), [])
  })

  it("fails `start` with codex's own message in an untrusted directory", async () => {
    const { server, sandbox } = await setup()

    const run = await runCli(sandbox, ["start", "Hello."])

    assert.strictEqual(run.code, 1)
    assert.strictEqual(run.stdout, "")
    assert.include(run.stderr, "Not inside a trusted directory")
    assert.deepStrictEqual(storeEntries(sandbox), [])
    assert.strictEqual(server.requests.length, 0)
  })

  it("rejects empty prompts with exit 2 and unknown ids with exit 1", async () => {
    const { server, sandbox } = await setup()

    for (const args of [
      ["start", ""],
      ["start", "  \n "],
      ["send", "0199abcd", ""],
    ]) {
      const run = await runCli(sandbox, args)
      assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`)
      assert.include(run.stderr, "The prompt is empty")
    }
    const fromStdin = await runCli(sandbox, ["start", "--skip-git-repo-check", "-"], { stdin: "" })
    assert.strictEqual(fromStdin.code, 2)
    const unknown = await runCli(sandbox, ["send", "0199abcd", "Hello."])
    assert.strictEqual(unknown.code, 1)
    assert.include(unknown.stderr, "0199abcd")
    assert.strictEqual(unknown.stdout, "")
    assert.deepStrictEqual(storeEntries(sandbox), [])
    assert.strictEqual(server.requests.length, 0)
  })
})
