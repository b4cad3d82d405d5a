import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { RUN_MARKER_VAR } from "../../src/processes/Processes.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import type { ModelServer, RecordedRequest } from "../../src/testing/index.js"
import {
  type CliSandbox,
  commandLine,
  processesWithEnv,
  readLog,
  readRunRecord,
  readTaskJson,
  runCli,
  taskDir,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"

// The app-server backend (`--backend app-server`) end to end: the real CLI and the real
// `codex app-server` against the scripted model server. The scenarios both backends share are
// in engine.test.ts (run over both); here what is particular to this one.

const { setup } = e2eWorld()

const start = async (sandbox: CliSandbox, prompt: string, flags: ReadonlyArray<string> = []) => {
  const run = await runCli(sandbox, ["start", "--skip-git-repo-check", ...flags, prompt])
  assert.strictEqual(run.code, 0, run.stderr)
  return run.stdout.trim()
}

const threadRequests = (server: ModelServer, id: string): ReadonlyArray<RecordedRequest> =>
  server.requests.filter(
    (r) => (r.body as { prompt_cache_key?: unknown } | undefined)?.prompt_cache_key === id,
  )

const promptsOf = (r: RecordedRequest | undefined) =>
  (r?.userTexts ?? []).filter((t) => !t.startsWith("<"))

/** The app-server processes of a run (by the run marker every process of the task carries). */
const appServers = (runId: string) =>
  processesWithEnv(RUN_MARKER_VAR, runId).filter((pid) =>
    (commandLine(pid) ?? "").includes("app-server"),
  )

describe("--backend app-server, real codex app-server", () => {
  it("runs queued prompts as turns of one warm app-server process, in order, once each", async () => {
    const { server, sandbox } = await setup()
    const id = await start(sandbox, "Slow one.\nDELAY:6000\nREPLY:slow done", [
      "--backend",
      "app-server",
    ])
    const runId = await waitFor("the run record", () => readRunRecord(taskDir(sandbox, id)))
    const queued = ["A", "B", "C"].map((x) => `Queued ${x}.\nREPLY:${x} done`)
    for (const prompt of queued) {
      const send = await runCli(sandbox, ["send", id, prompt])
      assert.strictEqual(send.code, 0, send.stderr)
      assert.include(send.stdout, "queued")
    }
    // Every app-server process seen while the four turns run: one, kept warm between them.
    const pids = new Set<number>()
    const look = () => {
      for (const pid of appServers(runId)) pids.add(pid)
    }
    look()
    const watching = setInterval(look, 50)
    const done = await waitForState(sandbox, id, "STOPPED", {
      extra: (m) => m.turns === 4,
    }).finally(() => clearInterval(watching))

    assert.strictEqual(pids.size, 1, `app-server processes: ${[...pids].join(", ")}`)
    const all = ["Slow one.\nDELAY:6000\nREPLY:slow done", ...queued]
    const requests = threadRequests(server, id)
    assert.deepStrictEqual(
      requests.map((r) => r.lastUserText),
      all,
    )
    requests.forEach((r, k) => {
      assert.deepStrictEqual(promptsOf(r), all.slice(0, k + 1), `turn ${k + 1}`)
    })
    assert.strictEqual(done.meta.last_result, "C done")
    assert.strictEqual(done.meta.exec?.backend, "app-server")
    const log = await readLog(sandbox, id)
    const completed = log.filter((e) => e.type === "turn.completed")
    assert.strictEqual(completed.length, 4)
    // Per-turn usage from the protocol's `last`, next to exec's running total.
    for (const e of completed) {
      const usage = e.usage as { input_tokens: number }
      const last = e.last_usage as { input_tokens: number }
      assert.isAbove(last.input_tokens, 0)
      assert.isAtMost(last.input_tokens, usage.input_tokens)
    }
    await waitFor("the app-server to exit", () =>
      appServers(runId).length === 0 ? true : undefined,
    )
  })

  it("continues an exec task on app-server (thread/resume) and back on exec, one thread", async () => {
    const { server, sandbox } = await setup()
    const id = await start(sandbox, "One.\nREPLY:one")
    await waitForState(sandbox, id, "STOPPED")

    const toAppServer = await runCli(sandbox, [
      "send",
      "--backend",
      "app-server",
      id,
      "Two.\nREPLY:two",
    ])
    assert.strictEqual(toAppServer.code, 0, toAppServer.stderr)
    const second = await waitForState(sandbox, id, "STOPPED", { extra: (m) => m.turns === 2 })
    assert.strictEqual(second.meta.exec?.backend, "app-server")
    assert.strictEqual(second.meta.last_result, "two")

    const toExec = await runCli(sandbox, ["send", "--backend", "exec", id, "Three.\nREPLY:three"])
    assert.strictEqual(toExec.code, 0, toExec.stderr)
    const third = await waitForState(sandbox, id, "STOPPED", { extra: (m) => m.turns === 3 })
    assert.strictEqual(third.meta.exec?.backend, "exec")
    assert.strictEqual(third.meta.last_result, "three")

    const requests = threadRequests(server, id)
    assert.strictEqual(requests.length, 3)
    assert.deepStrictEqual(promptsOf(requests[2]), [
      "One.\nREPLY:one",
      "Two.\nREPLY:two",
      "Three.\nREPLY:three",
    ])
    const log = await readLog(sandbox, id)
    assert.deepStrictEqual(
      log.filter((e) => e.type === "thread.started").map((e) => e.thread_id),
      [id, id, id],
    )
    const shown = await runCli(sandbox, ["log", id])
    assert.strictEqual(shown.code, 0, shown.stderr)
    for (const reply of ["one", "two", "three"]) assert.include(shown.stdout, reply)
  })

  it("follows --output-schema and leaves the user's config.toml untouched (workspace-write, git repo)", async () => {
    const { sandbox } = await setup()
    execFileSync("git", ["init", "-q"], { cwd: sandbox.cwd })
    const config = join(sandbox.home, "config.toml")
    const before = readFileSync(config, "utf8")
    const schema = join(sandbox.cwd, "schema.json")
    writeFileSync(
      schema,
      JSON.stringify({
        type: "object",
        properties: { answer: { type: "string" } },
        required: ["answer"],
        additionalProperties: false,
      }),
    )
    const run = await runCli(sandbox, [
      "start",
      "--backend",
      "app-server",
      "--sandbox",
      "workspace-write",
      "--output-schema",
      schema,
      'Answer as JSON.\nREPLY:{"answer":"42"}',
    ])
    assert.strictEqual(run.code, 0, run.stderr)
    const id = run.stdout.trim()
    const done = await waitForState(sandbox, id, "STOPPED")

    assert.strictEqual(done.meta.last_result, '{"answer":"42"}')
    const request = (await readTaskJson(sandbox, id)).exec
    assert.strictEqual(request?.output_schema, schema)
    assert.strictEqual(readFileSync(config, "utf8"), before, "config.toml unchanged")
  })

  it("an app-server killed mid-turn leaves the task DIED; send resumes it on a new one", async () => {
    const { server, sandbox } = await setup()
    const id = await start(sandbox, "Stall.\nDELAY:60000\nREPLY:never", ["--backend", "app-server"])
    await server.waitForRequests(1)
    const runId = await waitFor("the run record", () => readRunRecord(taskDir(sandbox, id)))
    const [appServer] = await waitFor("the app-server", () => {
      const pids = appServers(runId)
      return pids.length > 0 ? pids : undefined
    })
    process.kill(appServer!, "SIGKILL")

    const died = await waitForState(sandbox, id, "DIED")
    assert.strictEqual(died.meta.last_outcome?.kind, "failed")
    const outcome = died.meta.last_outcome
    assert.match(outcome?.kind === "failed" ? outcome.message : "", /SIGKILL/)
    const send = await runCli(sandbox, ["send", id, "After the crash.\nREPLY:recovered"])
    assert.strictEqual(send.code, 0, send.stderr)
    const done = await waitForState(sandbox, id, "STOPPED", {
      extra: (m) => m.last_result === "recovered",
    })
    assert.strictEqual(done.outcome?.kind, "completed")
    assert.deepStrictEqual(promptsOf(threadRequests(server, id).at(-1)), [
      "Stall.\nDELAY:60000\nREPLY:never",
      "After the crash.\nREPLY:recovered",
    ])
  })

  it("send --steer during a running command reaches the model's next request; one turn", async () => {
    const { server, sandbox } = await setup()
    const id = await start(sandbox, "Work.\nRUN:sleep 5\nREPLY:unsteered", [
      "--backend",
      "app-server",
      "--dangerously-bypass-approvals-and-sandbox",
    ])
    const runId = await waitFor("the run record", () => readRunRecord(taskDir(sandbox, id)))
    await waitFor("`sleep 5` to run", () =>
      processesWithEnv(RUN_MARKER_VAR, runId).find((pid) => commandLine(pid) === "sleep 5"),
    )

    const steer = await runCli(sandbox, ["send", "--steer", id, "REPLY:steered answer"])

    assert.strictEqual(steer.code, 0, steer.stderr)
    assert.strictEqual(steer.stdout, `Task ${id}: prompt joined the running turn.\n`)
    const done = await waitForState(sandbox, id, "STOPPED")
    assert.strictEqual(done.meta.turns, 1, "the steer made no turn of its own")
    assert.strictEqual(done.meta.last_result, "steered answer")
    const requests = threadRequests(server, id)
    assert.strictEqual(requests.length, 2)
    assert.strictEqual(requests[1]?.lastUserText, "REPLY:steered answer")
    const log = await readLog(sandbox, id)
    const kinds = log.flatMap((e) =>
      e.type === "user_message"
        ? [`U:${e.message}`]
        : e.type === "item.started" && (e.item as { type?: string }).type === "command_execution"
          ? ["command"]
          : e.type === "turn.completed"
            ? ["completed"]
            : [],
    )
    assert.deepStrictEqual(kinds, [
      "U:Work.\nRUN:sleep 5\nREPLY:unsteered",
      "command",
      "U:REPLY:steered answer",
      "completed",
    ])
    const shown = await runCli(sandbox, ["log", id])
    assert.include(shown.stdout, "REPLY:steered answer")
  })

  it("a steer racing the end of a turn is delivered exactly once, as the command says", async () => {
    const { server, sandbox } = await setup()
    for (const delay of [200, 700, 1200]) {
      const first = `Race ${delay}.\nDELAY:${delay}\nREPLY:first ${delay}`
      const id = await start(sandbox, first, ["--backend", "app-server"])
      const steerPrompt = `REPLY:steer ${delay}`
      const steer = await runCli(sandbox, ["send", "--steer", id, steerPrompt])
      assert.strictEqual(steer.code, 0, steer.stderr)
      const joined = steer.stdout.includes("joined the running turn")
      const done = await waitForState(sandbox, id, "STOPPED", {
        extra: (m) => m.last_result === `steer ${delay}`,
      })
      const carrying = threadRequests(server, id).filter((r) => r.lastUserText === steerPrompt)
      assert.strictEqual(carrying.length, 1, `delay ${delay}: the steer reached the model once`)
      assert.strictEqual(done.meta.turns, joined ? 1 : 2, `delay ${delay}: ${steer.stdout}`)
      const log = await readLog(sandbox, id)
      assert.strictEqual(log.filter((e) => e.message === steerPrompt).length, 1)
    }
  }, 90_000)

  it("send --steer with no turn in flight queues the prompt and says so; an exec task refuses it", async () => {
    const { sandbox } = await setup()
    const id = await start(sandbox, "REPLY:one", ["--backend", "app-server"])
    await waitForState(sandbox, id, "STOPPED")
    const idle = await runCli(sandbox, ["send", "--steer", id, "REPLY:two"])
    assert.strictEqual(idle.code, 0, idle.stderr)
    assert.strictEqual(
      idle.stdout,
      `Task ${id}: no turn in flight to join; prompt started a new turn.\n`,
    )
    const done = await waitForState(sandbox, id, "STOPPED", { extra: (m) => m.turns === 2 })
    assert.strictEqual(done.meta.last_result, "two")

    const exec = await start(sandbox, "REPLY:exec")
    await waitForState(sandbox, exec, "STOPPED")
    const refused = await runCli(sandbox, ["send", "--steer", exec, "REPLY:no"])
    assert.strictEqual(refused.code, 1)
    assert.strictEqual(refused.stdout, "")
    assert.include(refused.stderr, "--backend app-server")
    assert.notMatch(refused.stderr, /\n\s+at /, "no stack trace")
  })

  describe("--approvals ask", () => {
    /** The task's `waiting` once it is for `kind`; on a timeout the error carries the log's end. */
    const waitingFor = (sandbox: CliSandbox, id: string, kind: string) =>
      waitFor(`the task to wait for ${kind}`, async () => {
        const meta = await readTaskJson(sandbox, id).catch(() => undefined)
        return meta?.waiting?.for === kind ? meta.waiting : undefined
      }).catch(async (e: unknown) => {
        const log = await readFile(join(taskDir(sandbox, id), "task.log"), "utf8").catch(() => "")
        const tail = log
          .split("\n")
          .slice(-15)
          .map((l) => l.slice(0, 400))
        throw new Error(`${String(e)}; the log ends:\n${tail.join("\n")}`)
      })
    const asking = async (sandbox: CliSandbox, extra: ReadonlyArray<string> = []) => {
      const id = await start(sandbox, "Make a file.\nRUN:touch approved.txt\nREPLY:done", [
        "--backend",
        "app-server",
        "--approvals",
        "ask",
        "-s",
        "workspace-write",
        ...extra,
      ])
      const waiting = await waitingFor(sandbox, id, "approval")
      return { id, waiting }
    }
    const noted = async (sandbox: CliSandbox, id: string, kind = "approval") =>
      (await readLog(sandbox, id))
        .filter((e) => e.type === "worker" && String(e.message).startsWith(kind))
        .map((e) => String(e.message))

    it("waits for approval (status says for what, --on-finish hears of it); approve → the command ran", async () => {
      const { sandbox } = await setup()
      const events = join(sandbox.home, "events.txt")
      const { id, waiting } = await asking(sandbox, [
        "--on-finish",
        `echo "$CODEX_TASKS_EVENT $CODEX_TASKS_STATE" >> '${events}'`,
      ])
      assert.strictEqual(waiting.request?.kind, "command")
      assert.include(waiting.request?.command ?? "", "touch approved.txt")
      const status = await runCli(sandbox, ["status", id])
      assert.match(status.stdout, /Waiting: for approval: .*touch approved\.txt/)
      assert.isFalse(existsSync(join(sandbox.cwd, "approved.txt")), "not before the answer")

      const approve = await runCli(sandbox, ["approve", id])

      assert.strictEqual(approve.code, 0, approve.stderr)
      assert.strictEqual(approve.stdout, `Task ${id}: approved.\n`)
      const done = await waitForState(sandbox, id, "STOPPED")
      assert.strictEqual(done.meta.last_result, "done")
      assert.isUndefined(done.meta.waiting)
      assert.isTrue(existsSync(join(sandbox.cwd, "approved.txt")), "the command ran")
      const notes = await noted(sandbox, id)
      assert.match(notes[0] ?? "", /^approval requested: .*touch approved\.txt/)
      assert.strictEqual(notes[1], "approval approved")
      const heard = await waitFor("both notifications", () => {
        const lines = existsSync(events) ? readFileSync(events, "utf8").trim().split("\n") : []
        return lines.length >= 2 ? lines : undefined
      })
      assert.deepStrictEqual(heard, ["approval_requested RUNNING", "finished STOPPED"])
    })

    it("decline → the command did not run; a second answer is refused (exit 1)", async () => {
      const { sandbox } = await setup()
      const { id } = await asking(sandbox)

      const decline = await runCli(sandbox, ["decline", id, "--message", "not now"])

      assert.strictEqual(decline.code, 0, decline.stderr)
      assert.strictEqual(decline.stdout, `Task ${id}: declined; the message goes to codex.\n`)
      const done = await waitForState(sandbox, id, "STOPPED")
      assert.isFalse(existsSync(join(sandbox.cwd, "approved.txt")), "the command did not run")
      assert.strictEqual((await noted(sandbox, id))[1], "approval declined: not now")
      const again = await runCli(sandbox, ["approve", id])
      assert.strictEqual(again.code, 1)
      assert.include(again.stderr, "is not waiting for an approval")
      assert.strictEqual(done.meta.state, "STOPPED")
    })

    it("--turn-timeout does not count the wait for an answer: approved after longer than it, the turn completes", async () => {
      const { sandbox } = await setup()
      const { id } = await asking(sandbox, ["--turn-timeout", "6s"])
      // Waiting for longer than the whole turn may run.
      await new Promise((resolve) => setTimeout(resolve, 8_000))
      const still = await readTaskJson(sandbox, id)
      assert.strictEqual(still.waiting?.for, "approval", "still waiting, not cut")

      const approve = await runCli(sandbox, ["approve", id])

      assert.strictEqual(approve.code, 0, approve.stderr)
      const done = await waitForState(sandbox, id, "STOPPED")
      assert.strictEqual(done.outcome?.kind, "completed")
      assert.strictEqual(done.meta.last_result, "done")
      assert.isTrue(existsSync(join(sandbox.cwd, "approved.txt")), "the command ran")
    }, 60_000)

    it("--approval-timeout declines on its own", async () => {
      const { sandbox } = await setup()
      const { id } = await asking(sandbox, ["--approval-timeout", "2s"])
      await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
      assert.isFalse(existsSync(join(sandbox.cwd, "approved.txt")))
      assert.match((await noted(sandbox, id))[1] ?? "", /^approval declined: no answer within 2 s/)
    })

    it("a worker killed while waiting leaves the task DIED; send resumes it", async () => {
      const { sandbox } = await setup()
      const { id } = await asking(sandbox)
      const worker = readWorkerIdentity(taskDir(sandbox, id))?.pid
      assert.isDefined(worker)
      process.kill(worker!, "SIGKILL")

      const died = await waitForState(sandbox, id, "DIED")
      assert.strictEqual(died.outcome?.kind, "worker_lost")
      const send = await runCli(sandbox, ["send", id, "REPLY:after the crash"])
      assert.strictEqual(send.code, 0, send.stderr)
      const done = await waitForState(sandbox, id, "STOPPED", {
        extra: (m) => m.last_result === "after the crash",
      })
      assert.isUndefined(done.meta.waiting, "the old request is no longer waited for")
      assert.isFalse(existsSync(join(sandbox.cwd, "approved.txt")))
    })

    const functionOutputs = (server: ModelServer, id: string, tool: string) =>
      threadRequests(server, id).flatMap((r) => {
        const input = (r.body as { input?: ReadonlyArray<Record<string, unknown>> }).input ?? []
        const calls = new Set(
          input.filter((i) => i.type === "function_call" && i.name === tool).map((i) => i.call_id),
        )
        return input
          .filter((i) => i.type === "function_call_output" && calls.has(i.call_id))
          .map((i) => String(i.output))
      })

    it("a request for input (request_user_input) waits; approve --answer gives codex the answer", async () => {
      const { server, sandbox } = await setup()
      const question = {
        id: "colour",
        header: "Colour",
        question: "Which colour?",
        options: [
          { label: "Red", description: "warm" },
          { label: "Blue", description: "cool" },
        ],
      }
      const id = await start(
        sandbox,
        `Ask.\nCALL:request_user_input:${JSON.stringify({ questions: [question] })}\nREPLY:thanks`,
        [
          "--backend",
          "app-server",
          "--approvals",
          "ask",
          "--enable",
          "default_mode_request_user_input",
        ],
      )
      const waiting = await waitingFor(sandbox, id, "input")
      assert.deepStrictEqual(
        waiting.request?.questions?.map((q) => [q.question, q.options]),
        [["Which colour?", ["Red", "Blue"]]],
      )
      const status = await runCli(sandbox, ["status", id])
      assert.include(status.stdout, "Waiting: for input: Which colour? [Red|Blue]")
      const ls = await runCli(sandbox, ["ls"])
      assert.include(ls.stdout, "RUNNING (input)")

      const bare = await runCli(sandbox, ["approve", id])
      assert.strictEqual(bare.code, 2, bare.stderr)
      assert.include(bare.stderr, "give one --answer for each, in order (0 given)")
      assert.notMatch(bare.stderr, /\n\s+at /, "no stack trace")
      const approve = await runCli(sandbox, ["approve", id, "--answer", "blue"])

      assert.strictEqual(approve.code, 0, approve.stderr)
      assert.strictEqual(approve.stdout, `Task ${id}: answered.\n`)
      const done = await waitForState(sandbox, id, "STOPPED")
      assert.strictEqual(done.meta.last_result, "thanks")
      assert.isUndefined(done.meta.waiting)
      const [output] = functionOutputs(server, id, "request_user_input")
      assert.deepStrictEqual(JSON.parse(output ?? "{}"), {
        answers: { colour: { answers: ["Blue"] } },
      })
      assert.deepStrictEqual(await noted(sandbox, id, "input"), [
        "input requested: Which colour? [Red|Blue]",
        "input answered",
      ])
    })

    it("a permission request waits; decline --message: nothing granted, the message joins the turn", async () => {
      const { server, sandbox } = await setup()
      const asked = { reason: "to fetch", permissions: { network: { enabled: true } } }
      const id = await start(
        sandbox,
        // DELAY: the model's answer after the decline takes long enough for the message to join.
        `Perm.\nDELAY:800\nCALL:request_permissions:${JSON.stringify(asked)}\nREPLY:without the network`,
        ["--backend", "app-server", "--approvals", "ask", "--enable", "request_permissions_tool"],
      )
      await waitingFor(sandbox, id, "permission")
      const status = await runCli(sandbox, ["status", id])
      assert.include(status.stdout, "Waiting: for permission: network (to fetch)")
      const message = "Use the cached copy instead.\nREPLY:used the cache"

      const decline = await runCli(sandbox, ["decline", id, "--message", message])

      assert.strictEqual(decline.code, 0, decline.stderr)
      assert.strictEqual(decline.stdout, `Task ${id}: declined; the message goes to codex.\n`)
      const done = await waitForState(sandbox, id, "STOPPED")
      assert.strictEqual(done.meta.turns, 1, "the message joined the turn")
      assert.strictEqual(done.meta.last_result, "used the cache")
      const [output] = functionOutputs(server, id, "request_permissions")
      assert.notInclude(output ?? "", '"enabled":true', "nothing granted")
      const carrying = threadRequests(server, id).filter((r) => r.userTexts.includes(message))
      assert.isAbove(carrying.length, 0, "the model got the message")
      const log = await readLog(sandbox, id)
      assert.strictEqual(
        log.filter((e) => e.type === "user_message" && e.message === message).length,
        1,
      )
      assert.deepStrictEqual(await noted(sandbox, id, "permission"), [
        "permission requested: network (to fetch)",
        "permission declined: Use the cached copy instead.\nREPLY:used the cache",
      ])
    })

    it("without it (--approvals never) a request for input is declined at once, not waited on", async () => {
      const { server, sandbox } = await setup()
      const options = [{ label: "Yes", description: "" }]
      const questions = [{ id: "q", header: "Q", question: "Go on?", options }]
      const id = await start(
        sandbox,
        `Ask.\nCALL:request_user_input:${JSON.stringify({ questions })}\nREPLY:went on`,
        ["--backend", "app-server", "--enable", "default_mode_request_user_input"],
      )
      const done = await waitForState(sandbox, id, "STOPPED")
      assert.strictEqual(done.meta.last_result, "went on")
      assert.deepStrictEqual(
        functionOutputs(server, id, "request_user_input").map((o) => JSON.parse(o)),
        [{ answers: {} }],
      )
      const log = await readLog(sandbox, id)
      assert.strictEqual(
        log.filter((e) => e.type === "app_server.item/tool/requestUserInput").length,
        1,
        "the request is in the log",
      )
    })

    it("is refused on the exec backend (exit 2)", async () => {
      const { sandbox } = await setup()
      const run = await runCli(sandbox, [
        "start",
        "--approvals",
        "ask",
        "--skip-git-repo-check",
        "Hi.",
      ])
      assert.strictEqual(run.code, 2, run.stderr)
      assert.include(run.stderr, "--approvals ask needs --backend app-server")
    })
  })

  it("refuses at start what app-server cannot express, naming it (exit 2, nothing started)", async () => {
    const { server, sandbox } = await setup()

    const profile = await runCli(sandbox, ["start", "--backend", "app-server", "-p", "fast", "Hi."])
    assert.strictEqual(profile.code, 2, profile.stderr)
    assert.include(profile.stderr, "--profile")
    assert.include(profile.stderr, "--backend exec")
    const raw = await runCli(sandbox, ["start", "Hi.", "--", "--oss"], {
      env: { CODEX_TASKS_BACKEND: "app-server" },
    })
    assert.strictEqual(raw.code, 2, raw.stderr)
    assert.include(raw.stderr, "after `--`")
    const bad = await runCli(sandbox, ["start", "Hi."], { env: { CODEX_TASKS_BACKEND: "daemon" } })
    assert.strictEqual(bad.code, 2, bad.stderr)
    assert.include(bad.stderr, "CODEX_TASKS_BACKEND must be exec or app-server (got daemon)")
    assert.notMatch(`${profile.stderr}${raw.stderr}${bad.stderr}`, /\n\s+at /, "no stack trace")
    assert.strictEqual(server.requests.length, 0)
  })
})
