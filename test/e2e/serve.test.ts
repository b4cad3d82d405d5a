import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import type { Browser, BrowserContext, Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { usageIdentityOf } from "../../src/worker/usageIdentity.js"
import { ensureChromium, launchChromium } from "../support/chromium.js"
import {
  type CliSandbox,
  commandLine,
  runCli,
  taskProcesses,
  tokenProcesses,
  tokenSleep,
  waitFor,
  waitForState,
} from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { git } from "../support/git.js"
import { type ServeProcess, startServe } from "../support/serveProcess.js"

// `codex-tasks serve` in real Chromium, with the real codex against the scripted model server:
// login, live board, a turn sent from the page, Stop, diff and Apply, eight tabs. One browser for
// the file. Screenshots go to $CODEX_TASKS_SERVE_SHOTS when it is set.

const executable = ensureChromium()
const world = e2eWorld()
const REBOUND = "rebound.example"
let browser: Browser
const contexts: Array<BrowserContext> = []

beforeAll(async () => {
  if (executable !== undefined) browser = await launchChromium(executable, { resolve: [REBOUND] })
})
afterAll(async () => {
  await browser?.close()
})

const FLAGS = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]
const SHOTS = process.env.CODEX_TASKS_SERVE_SHOTS

const setup = async (serveArgs: ReadonlyArray<string> = []) => {
  const { sandbox } = await world.setup()
  const serve = await startServe(sandbox, serveArgs)
  world.cleanups.push(async () => {
    for (const c of contexts.splice(0)) await c.close()
    await serve.stop("SIGKILL")
  })
  return { sandbox, serve }
}

const newContext = async () => {
  const context = await browser.newContext()
  contexts.push(context)
  return context
}

/** Opens the printed URL in a new context and waits for the board. */
const login = async (serve: ServeProcess, context?: BrowserContext) => {
  const page = await (context ?? (await newContext())).newPage()
  await page.goto(serve.url)
  await page.getByRole("table", { name: "Tasks" }).waitFor()
  await page.locator("#connection").filter({ hasText: "live" }).waitFor()
  return page
}

const row = (page: Page, text: string) =>
  page.getByRole("table", { name: "Tasks" }).getByRole("row").filter({ hasText: text })

const start = async (sandbox: CliSandbox, args: ReadonlyArray<string>) => {
  const run = await runCli(sandbox, ["start", ...args])
  assert.strictEqual(run.code, 0, run.stderr)
  return run.stdout.trim()
}

const openTask = async (page: Page, id: string) => {
  await page.evaluate(`location.hash = ${JSON.stringify(`#task/${id}`)}`)
  await page.getByRole("region", { name: "Transcript" }).waitFor()
}

const transcriptHas = (page: Page, text: string, timeout = 60_000) =>
  page.getByRole("region", { name: "Transcript" }).filter({ hasText: text }).waitFor({ timeout })

describe.skipIf(executable === undefined)("serve in Chromium", () => {
  it("logs in with the printed URL: token traded for an HttpOnly cookie, URL cleaned; SIGTERM exits 0", async () => {
    const { serve } = await setup()
    assert.strictEqual(serve.output().stdout, `${serve.url}\n`, "the URL is all stdout carries")
    const page = await login(serve)
    assert.strictEqual(page.url(), `${serve.origin}/`)
    assert.strictEqual(await page.evaluate("document.cookie"), "")
    const [cookie] = await page.context().cookies()
    assert.strictEqual(cookie?.httpOnly, true)
    assert.strictEqual(cookie?.sameSite, "Strict")
    // A reload keeps the session (the cookie), with no token in sight.
    await page.reload()
    await page.getByRole("table", { name: "Tasks" }).waitFor()
    assert.isTrue(await page.locator("#login").isHidden())
    const ended = await serve.stop("SIGTERM")
    assert.deepStrictEqual(ended, { code: 0, signal: null })
  })

  it("shows a task started from the CLI without a reload, its final state; filters; Archive", async () => {
    const { sandbox, serve } = await setup()
    const page = await login(serve)
    const id = await start(sandbox, [...FLAGS, "-t", "from the terminal", "REPLY:board answer"])
    await row(page, "from the terminal").waitFor({ timeout: 30_000 })
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    await row(page, "from the terminal").filter({ hasText: "stopped" }).waitFor({ timeout: 30_000 })
    assert.include((await row(page, "from the terminal").textContent()) ?? "", id.slice(0, 8))
    // Filters: by text and by state.
    const search = page.locator("#text-filter")
    await search.fill("nothing matches this")
    await row(page, "from the terminal").waitFor({ state: "detached" })
    await search.fill("TERMINAL")
    await row(page, "from the terminal").waitFor()
    const state = page.locator("#state-filter")
    await state.selectOption("running")
    await row(page, "from the terminal").waitFor({ state: "detached" })
    await state.selectOption("stopped")
    await row(page, "from the terminal").waitFor()
    await search.fill("")
    await state.selectOption("")
    // Archive from the task view: the CLI's words, and the board shows it archived.
    await openTask(page, id)
    await page.getByRole("button", { name: "Archive" }).click()
    await page
      .getByRole("status")
      .filter({ hasText: `Task ${id} archived to ` })
      .waitFor({ timeout: 30_000 })
    await page.getByRole("link", { name: "← All tasks" }).click()
    await row(page, "from the terminal")
      .filter({ hasText: "archived" })
      .waitFor({ timeout: 30_000 })
    if (SHOTS !== undefined) {
      mkdirSync(SHOTS, { recursive: true })
      await start(sandbox, [
        ...FLAGS,
        "-t",
        "second task",
        `RUN:${tokenSleep(sandbox, 30)}\nREPLY:x`,
      ])
      await row(page, "second task").filter({ hasText: "running" }).waitFor({ timeout: 30_000 })
      await page.screenshot({ path: join(SHOTS, "board.png"), fullPage: true })
    }
  })

  it("sends a prompt from the page: the turn runs and its answer appears in the transcript", async () => {
    const { sandbox, serve } = await setup()
    // Without options the gate refuses (the page feeds a task only as MCP task_send would).
    const id = await start(sandbox, ["--skip-git-repo-check", "-t", "chat", "REPLY:first answer"])
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    const page = await login(serve)
    await openTask(page, id)
    await transcriptHas(page, "first answer")
    await page.getByRole("textbox", { name: "Prompt" }).fill("REPLY:answer from the page")
    await page.getByRole("button", { name: "Send" }).click()
    await transcriptHas(page, "answer from the page")
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    await page
      .getByRole("region", { name: "Final answer" })
      .filter({ hasText: "answer from the page" })
      .waitFor({ timeout: 30_000 })
    if (SHOTS !== undefined)
      await page.screenshot({ path: join(SHOTS, "task.png"), fullPage: true })
    // Raw JSONL: the log, byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Raw JSONL" }).click(),
    ])
    assert.strictEqual(download.suggestedFilename(), `${id}.jsonl`)
    const saved = await readFile((await download.path()) ?? "")
    const log = await readFile(join(sandbox.storeRoot, id, "task.log"))
    assert.isAbove(log.length, 0)
    assert.isTrue(saved.equals(log), "the download is the log")
    // Archived from a terminal while the page is open: the view follows (archived, transcript
    // kept), and its log is still the one the link serves (from the archive now).
    const archived = await runCli(sandbox, ["archive", id])
    assert.strictEqual(archived.code, 0, archived.stderr)
    const dir = /archived to (\S+)/.exec(archived.stdout)?.[1]?.replace(/[.,]$/, "") ?? ""
    await page
      .locator("#task-meta")
      .filter({ hasText: /^archived · / })
      .waitFor({ timeout: 30_000 })
    await transcriptHas(page, "answer from the page", 1_000)
    const [again] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Raw JSONL" }).click(),
    ])
    const fromArchive = await readFile(join(dir, "task.log"))
    assert.isTrue((await readFile((await again.path()) ?? "")).equals(fromArchive))
    assert.isTrue(fromArchive.equals(log))
  })

  it("shows a task waiting for approval on the board and in its view; Approve lets the command run", async () => {
    const { sandbox, serve } = await setup()
    const page = await login(serve)
    const id = await start(sandbox, [
      "--skip-git-repo-check",
      "--backend",
      "app-server",
      "--approvals",
      "ask",
      "-s",
      "workspace-write",
      "-t",
      "asks first",
      "Make a file.\nRUN:touch approved.txt\nREPLY:done",
    ])
    await row(page, "asks first")
      .filter({ hasText: "waiting for approval: " })
      .filter({ hasText: "touch approved.txt" })
      .waitFor({ timeout: 60_000 })
    await openTask(page, id)
    const request = page.getByRole("region", { name: "Waiting for an answer" })
    await request.filter({ hasText: "touch approved.txt" }).waitFor({ timeout: 30_000 })
    assert.isFalse(existsSync(join(sandbox.cwd, "approved.txt")), "not before the answer")
    if (SHOTS !== undefined)
      await page.screenshot({ path: join(SHOTS, "approval.png"), fullPage: true })
    await page.getByRole("button", { name: "Approve", exact: true }).click()
    await page
      .locator("#message")
      .filter({ hasText: `Task ${id}: approved.` })
      .waitFor()
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    assert.isTrue(existsSync(join(sandbox.cwd, "approved.txt")), "the command ran")
    await request.waitFor({ state: "hidden", timeout: 30_000 })
  })

  it("shows runs in use over --max-running, a task waiting for a slot, the usage-limit countdown", async () => {
    const { sandbox: plain, serve } = await setup(["--max-running", "1"])
    const sandbox = { ...plain, env: { ...plain.env, CODEX_TASKS_MAX_RUNNING: "1" } }
    const waiter = await start(sandbox, [...FLAGS, "-t", "the waiter", "REPLY:one"])
    await waitForState(sandbox, waiter, "STOPPED", { timeoutMs: 60_000 })
    // codex lets a command hold a turn for 30 s at most (YIELD): the slot stays taken that long,
    // well past the checks of the slot below.
    await start(sandbox, [
      ...FLAGS,
      "-t",
      "the holder",
      `Hold.\nYIELD:30000\nRUN:${tokenSleep(sandbox)}\nREPLY:held`,
    ])
    await waitFor("the holder's command", () =>
      tokenProcesses(sandbox).length > 0 ? true : undefined,
    )
    const page = await login(serve)
    const sent = await runCli(sandbox, ["send", waiter, "REPLY:two"])
    assert.strictEqual(sent.code, 0, sent.stderr)
    await row(page, "the waiter")
      .filter({ hasText: "waiting for a slot" })
      .waitFor({ timeout: 30_000 })
    await page
      .locator("#slots")
      .filter({ hasText: "runs in use 1 / 1, 1 waiting for a slot" })
      .waitFor({ timeout: 30_000 })
    // A reset the store knows of (as a worker that hit the limit records it): the waiter's next
    // prompt waits for it, and the header counts down to it.
    assert.strictEqual((await runCli(sandbox, ["stop", waiter])).code, 0)
    await waitForState(sandbox, waiter, "STOPPED", { timeoutMs: 60_000 })
    const who = await Effect.runPromise(usageIdentityOf({}, sandbox.env))
    const now = Date.now()
    writeFileSync(
      join(sandbox.storeRoot, ".usage-limit.json"),
      JSON.stringify({
        until: new Date(now + 10 * 60_000).toISOString(),
        recorded_at: new Date(now).toISOString(),
        codex_home: who.codexHome,
        ...(who.account === undefined ? {} : { account: who.account }),
      }),
    )
    assert.strictEqual((await runCli(sandbox, ["send", waiter, "REPLY:three"])).code, 0)
    await row(page, "the waiter")
      .filter({ hasText: "usage limit until" })
      .waitFor({ timeout: 30_000 })
    const countdown = page.locator("#usage-limit")
    await countdown.filter({ hasText: /^usage limit: resets in (09|10):\d\d$/ }).waitFor()
    const first = await countdown.textContent()
    await waitFor("the countdown to move", async () =>
      (await countdown.textContent()) !== first ? true : undefined,
    )
    const stopped = await runCli(sandbox, ["stop", waiter])
    assert.strictEqual(stopped.code, 0, `${stopped.stdout}${stopped.stderr}`)
    await countdown.waitFor({ state: "hidden", timeout: 30_000 })
  })

  it("Stop ends the task and leaves no process", async () => {
    const { sandbox, serve } = await setup()
    const id = await start(sandbox, [...FLAGS, `Long.\nRUN:${tokenSleep(sandbox)}\nREPLY:never`])
    await waitFor("the command to run", () =>
      tokenProcesses(sandbox).some((pid) => commandLine(pid) === tokenSleep(sandbox))
        ? true
        : undefined,
    )
    const page = await login(serve)
    await openTask(page, id)
    await page.getByRole("button", { name: "Stop" }).click()
    await page
      .getByRole("status")
      .filter({ hasText: `Task ${id} stopped.` })
      .waitFor({ timeout: 60_000 })
    assert.deepStrictEqual(taskProcesses(sandbox, id), {
      worker: undefined,
      marked: [],
      tokened: [],
    })
    await waitForState(sandbox, id, "STOPPED")
  })

  it("shows a worktree task's diff by file and applies it", async () => {
    const { sandbox, serve } = await setup()
    const repo = sandbox.cwd
    const inRepo = (...args: Array<string>) => git(repo, ...args)
    inRepo("init", "-q", "-b", "main")
    writeFileSync(join(repo, "README"), "base\n")
    inRepo("add", ".")
    inRepo("commit", "-qm", "base")
    const id = await start(sandbox, [
      "--worktree",
      "-s",
      "workspace-write",
      "-t",
      "patcher",
      "PATCH:notes.txt:one\\ntwo\nREPLY:patched",
    ])
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    const page = await login(serve)
    await openTask(page, id)
    const changes = page.getByRole("region", { name: "Changes" })
    await changes
      .getByRole("listitem")
      .filter({ hasText: "notes.txt +2" })
      .waitFor({ timeout: 30_000 })
    assert.isFalse(existsSync(join(repo, "notes.txt")))
    await page.getByRole("button", { name: "Apply" }).click()
    await page
      .getByRole("status")
      .filter({ hasText: "Applied 1 file(s)" })
      .waitFor({ timeout: 30_000 })
    assert.strictEqual(readFileSync(join(repo, "notes.txt"), "utf8"), "one\ntwo\n")
    // With a conflicting change in the checkout, Apply is refused as the CLI words it.
    writeFileSync(join(repo, "notes.txt"), "something else\n")
    inRepo("add", "notes.txt")
    inRepo("commit", "-qm", "conflict")
    await page.getByRole("button", { name: "Apply" }).click()
    const refusal = await runCli(sandbox, ["apply", id])
    assert.notStrictEqual(refusal.code, 0, refusal.stdout)
    const shown =
      refusal.stderr
        .replace(/^codex-tasks: /, "")
        .trim()
        .split("\n")[0] ?? ""
    await page.getByRole("status").filter({ hasText: shown }).waitFor({ timeout: 30_000 })
  })

  it("notifies only when a task leaves running, with the first line of its answer", async () => {
    const { sandbox, serve } = await setup()
    const context = await newContext()
    // The browser's notifications, recorded (headless Chromium shows none).
    await context.addInitScript(`
      window.__notes = []
      window.Notification = class {
        static permission = "granted"
        static requestPermission() { return Promise.resolve("granted") }
        constructor(title, options) { window.__notes.push({ title, body: options?.body ?? "" }) }
      }
    `)
    const page = await login(serve, context)
    const id = await start(sandbox, [
      ...FLAGS,
      "-t",
      "notify me",
      `RUN:${tokenSleep(sandbox, 8)}\nREPLY:first line of the answer\nsecond line`,
    ])
    await row(page, "notify me").filter({ hasText: "running" }).waitFor({ timeout: 30_000 })
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 60_000 })
    const notes = await waitFor("a notification", async () => {
      const n = (await page.evaluate("window.__notes")) as Array<{ title: string; body: string }>
      return n.length > 0 ? n : undefined
    })
    assert.deepStrictEqual(notes, [
      { title: "notify me: stopped (completed)", body: "first line of the answer" },
    ])
  })

  it("keeps eight tabs live at once (one WebSocket each)", async () => {
    const { sandbox, serve } = await setup()
    const context = await newContext()
    const first = await login(serve, context)
    const tabs = [first]
    for (let i = 1; i < 8; i++) {
      const tab = await context.newPage()
      await tab.goto(`${serve.origin}/`)
      await tab.getByRole("table", { name: "Tasks" }).waitFor()
      tabs.push(tab)
    }
    await Promise.all(
      tabs.map((t) => t.locator("#connection").filter({ hasText: "live" }).waitFor()),
    )
    // A title that is markup shows as the text it is (the board's rows are escaped HTML).
    const title = `seen by <b>all</b> & "you"`
    await start(sandbox, [...FLAGS, "-t", title, "REPLY:ok"])
    await Promise.all(tabs.map((t) => row(t, title).waitFor({ timeout: 30_000 })))
    assert.strictEqual(await first.locator("#rows b").count(), 0)
  })

  it("refuses a DNS-rebound name in the browser (page, API and WebSocket) and a page without the token", async () => {
    const { serve } = await setup()
    const page = await (await newContext()).newPage()
    const rebound = await page.goto(`http://${REBOUND}:${serve.port}/#token=${serve.token}`)
    assert.strictEqual(rebound?.status(), 403)
    // In the page (no DOM types here): the API and the live channel from the rebound name.
    const probe = await page.evaluate(`(async () => {
      const api = await fetch("/api/tasks").then((r) => r.status)
      const ws = await new Promise((resolve) => {
        const s = new WebSocket("ws://" + location.host + "/live")
        s.onopen = () => resolve("open")
        s.onerror = () => resolve("refused")
      })
      return { api, ws }
    })()`)
    assert.deepStrictEqual(probe, { api: 403, ws: "refused" })
    const stranger = await (await newContext()).newPage()
    await stranger.goto(`${serve.origin}/`)
    await stranger.locator("#login").waitFor()
    const status = await stranger.evaluate('fetch("/api/tasks").then((r) => r.status)')
    assert.strictEqual(status, 401)
  })
})
