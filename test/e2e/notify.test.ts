import { existsSync, readFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { BACKENDS, onBackend } from "../support/backends.js"
import {
  commandLine,
  readLog,
  runCli,
  taskProcesses,
  tokenProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"

// Notifications of a task's end (issue 12, item 5) with the real codex: `--on-finish` runs a
// command with the task in its environment, `--webhook` POSTs the task as JSON.

const world = e2eWorld()
const cleanups = world.cleanups
const setup = async () => (await world.setup()).sandbox

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** An http server on 127.0.0.1 that answers 503 to the first `failFirst` requests, then 204. */
const hookServer = async (failFirst = 0) => {
  const received: Array<Received> = []
  let seen = 0
  const server = createServer((req, res) => {
    let body = ""
    req.setEncoding("utf8").on("data", (d: string) => {
      body += d
    })
    req.on("end", () => {
      received.push({ headers: req.headers, body })
      seen++
      res.statusCode = seen <= failFirst ? 503 : 204
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  cleanups.push(() => new Promise((r) => server.close(() => r())))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, received }
}

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

describe("notifications", () => {
  it.each(BACKENDS)(
    "--on-finish and --webhook see the task's id, state and result (%s)",
    async (backend) => {
      const sandbox = onBackend(await setup(), backend)
      const hook = await hookServer(1)
      // The title would run a command if anything interpolated it into the shell text.
      const title = "nightly $(touch pwned) `touch pwned2`"
      const onFinish =
        'printf "%s|%s|%s|%s|%s" "$CODEX_TASKS_TASK_ID" "$CODEX_TASKS_STATE" "$CODEX_TASKS_OUTCOME" "$CODEX_TASKS_TITLE" "$(cat "$CODEX_TASKS_RESULT_FILE")" > finished.txt; echo notified; exit 3'
      const run = await runCli(sandbox, [
        "start",
        ...FLAGS,
        "--title",
        title,
        "--on-finish",
        onFinish,
        "--webhook",
        hook.url,
        "Work.\nREPLY:all done",
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      const id = run.stdout.trim()
      const file = join(sandbox.cwd, "finished.txt")
      await waitFor("the --on-finish file", () => (existsSync(file) ? true : undefined))
      assert.strictEqual(readFileSync(file, "utf8"), `${id}|STOPPED|completed|${title}|all done`)
      assert.isFalse(existsSync(join(sandbox.cwd, "pwned")))
      assert.isFalse(existsSync(join(sandbox.cwd, "pwned2")))
      // The first POST got a 503: it was retried.
      await waitFor("the webhook to succeed", () => (hook.received.length >= 2 ? true : undefined))
      const last = hook.received[hook.received.length - 1]!
      assert.strictEqual(last.headers["content-type"], "application/json")
      const body = JSON.parse(last.body)
      assert.include(body, { id, title, state: "STOPPED", last_result: "all done" })
      assert.strictEqual(body.outcome.kind, "completed")
      assert.isString(body.finished_at)
      assert.isDefined(body.usage)
      // Both are in the log; the command's exit 3 did not change the task.
      const entries = await waitFor("both notification entries", async () => {
        const n = (await readLog(sandbox, id)).filter((e) => e.type === "notification")
        return n.length === 2 ? n : undefined
      })
      const command = entries.find((e) => e.kind === "on_finish")!
      assert.include(command, { ok: false, exit_code: 3, message: "exit 3" })
      assert.include(String(command.output), "notified")
      assert.include(entries.find((e) => e.kind === "webhook")!, { ok: true, attempts: 2 })
      const state = await waitForState(sandbox, id, "STOPPED")
      assert.strictEqual(state.meta.last_outcome?.kind, "completed")
      const shown = await runCli(sandbox, ["log", id])
      assert.include(shown.stdout, "notification --on-finish: exit 3")
    },
    120_000,
  )

  it("stored with the task: a later send's worker notifies again", async () => {
    const sandbox = await setup()
    const run = await runCli(sandbox, ["start", ...FLAGS, "First.\nREPLY:one"], {
      env: {
        CODEX_TASKS_ON_FINISH:
          'echo "$CODEX_TASKS_STATE $(cat "$CODEX_TASKS_RESULT_FILE")" >> ends.txt',
      },
    })
    assert.strictEqual(run.code, 0, run.stderr)
    const id = run.stdout.trim()
    const file = join(sandbox.cwd, "ends.txt")
    await waitFor("the first notification", () => (existsSync(file) ? true : undefined))
    const sent = await runCli(sandbox, ["send", id, "Second.\nREPLY:two"])
    assert.strictEqual(sent.code, 0, sent.stderr)
    await waitFor("the second notification", () =>
      readFileSync(file, "utf8").split("\n").length >= 3 ? true : undefined,
    )
    assert.strictEqual(readFileSync(file, "utf8"), "STOPPED one\nSTOPPED two\n")
  }, 120_000)

  it("a hook that backgrounds a job holding its stdout: the worker exits at once (issue 20)", async () => {
    const sandbox = await setup()
    // `$PPID` of the hook's shell is the worker; the sleep keeps the shell's stdout open.
    const onFinish = `echo $PPID > worker.pid; ${tokenSleep(sandbox, 30)} & echo hooked`
    const run = await runCli(sandbox, ["start", ...FLAGS, "--on-finish", onFinish, "Hi.\nREPLY:ok"])
    assert.strictEqual(run.code, 0, run.stderr)
    const id = run.stdout.trim()
    const pidFile = join(sandbox.cwd, "worker.pid")
    const worker = await waitFor("the hook to run", () =>
      existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : undefined,
    )
    // Before: the worker waited for the sleep's EOF (30 s). Far below that, it is gone.
    await waitFor(
      "the worker to exit",
      () => (existsSync(`/proc/${worker}`) ? undefined : true),
      20_000,
    )
    const entry = (await readLog(sandbox, id)).find((e) => e.type === "notification")
    assert.include(entry, { kind: "on_finish", ok: true, message: "exit 0" })
    assert.include(String(entry?.output), "hooked")
    // The job the hook put in the background runs on (as it would from a shell).
    const sleeps = tokenProcesses(sandbox).filter((p) => commandLine(p) === tokenSleep(sandbox, 30))
    assert.lengthOf(sleeps, 1)
    for (const p of sleeps) process.kill(p, "SIGKILL")
  }, 60_000)

  it.each(BACKENDS)(
    "a worker SIGKILLed mid-turn: the next command notifies, once (issue 20, %s)",
    async (backend) => {
      const sandbox = onBackend(await setup(), backend)
      const onFinish =
        'echo "$CODEX_TASKS_EVENT $CODEX_TASKS_STATE $CODEX_TASKS_OUTCOME" >> ends.txt'
      const run = await runCli(sandbox, [
        "start",
        ...FLAGS,
        "--on-finish",
        onFinish,
        `Long.\nRUN:${tokenSleep(sandbox)}\nREPLY:never`,
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      const id = run.stdout.trim()
      const worker = await waitFor("the worker", () => taskProcesses(sandbox, id).worker)
      process.kill(worker, "SIGKILL")
      await waitFor("the worker to be gone", () =>
        taskProcesses(sandbox, id).worker === undefined ? true : undefined,
      )
      // Two observers at once, then more: one notification.
      const [ls, status] = await Promise.all([
        runCli(sandbox, ["ls"]),
        runCli(sandbox, ["status", id]),
      ])
      assert.strictEqual(ls.code, 0, ls.stderr)
      assert.strictEqual(status.code, 0, status.stderr)
      const file = join(sandbox.cwd, "ends.txt")
      await waitFor("the notification", async () =>
        (await readLog(sandbox, id)).some((e) => e.type === "notification") ? true : undefined,
      )
      // Later observers (a stop ends what the lost worker left, if anything) notify no more.
      await runCli(sandbox, ["stop", id])
      assert.strictEqual((await runCli(sandbox, ["ls"])).code, 0)
      assert.strictEqual(readFileSync(file, "utf8"), "worker_lost DIED worker_lost\n")
      assert.lengthOf(
        (await readLog(sandbox, id)).filter((e) => e.type === "notification"),
        1,
      )
    },
    120_000,
  )

  it("status --wait && archive: the notification still reads the result and is logged (issue 20)", async () => {
    const sandbox = await setup()
    // A hook that takes a moment: before, `status --wait` returned as soon as the task was
    // STOPPED and `archive` moved the task while the hook ran (result file gone, entry lost).
    const onFinish = 'sleep 1; cat "$CODEX_TASKS_RESULT_FILE"'
    const run = await runCli(sandbox, [
      "start",
      ...FLAGS,
      "--on-finish",
      onFinish,
      "Hi.\nREPLY:the result",
    ])
    assert.strictEqual(run.code, 0, run.stderr)
    const id = run.stdout.trim()
    const wait = await runCli(sandbox, ["status", "--wait", id])
    assert.strictEqual(wait.code, 0, wait.stderr)
    const archived = await runCli(sandbox, ["archive", id])
    assert.strictEqual(archived.code, 0, archived.stderr)
    const log = await runCli(sandbox, ["log", "--json", id])
    assert.strictEqual(log.code, 0, log.stderr)
    const entries = log.stdout
      .split("\n")
      .filter((l) => l.includes('"type":"notification"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.lengthOf(entries, 1)
    assert.include(entries[0], { kind: "on_finish", ok: true, message: "exit 0" })
    assert.include(String(entries[0]?.output), "the result")
  }, 60_000)

  it("refuses a webhook that is not http or https (exit 2), before anything runs", async () => {
    const sandbox = await setup()
    const run = await runCli(sandbox, ["start", ...FLAGS, "--webhook", "file:///etc/passwd", "x"])
    assert.strictEqual(run.code, 2, run.stderr)
    assert.include(run.stderr, "http or https")
  })
})
