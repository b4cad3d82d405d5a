import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { currentIdentity } from "../../src/processes/procfs.js"
import { writeWorker } from "../../src/store/workerFiles.js"
import { Tasks } from "../../src/tasks/Tasks.js"
import { viewJson } from "../../src/tasks/view.js"
import { ARCHIVED, DEAD, DONE, FAILED, writeTask } from "../support/mcpInProcess.js"
import { send, serveInProcess, TOKEN } from "../support/serveInProcess.js"

// The JSON API answers what the CLI prints (the same façade and encoders), and refuses as the
// CLI words it, with a fitting status.

let server: Awaited<ReturnType<typeof serveInProcess>>
let headers: Record<string, string>
const PLAIN = "0199d7c5-0000-7000-8000-00000000bbbb"
const SECRET = `secret-${Math.random().toString(36).slice(2)}`

beforeAll(async () => {
  process.env.CODEX_TASKS_TEST_SECRET = SECRET
  server = await serveInProcess()
  headers = {
    host: `127.0.0.1:${server.port}`,
    authorization: `Bearer ${TOKEN}`,
    "content-type": "application/json",
  }
  writeTask(server.storeRoot, PLAIN, {})
})
afterAll(async () => {
  delete process.env.CODEX_TASKS_TEST_SECRET
  await server.close()
})

const get = (path: string) => send(server.port, "GET", path, headers)
const post = (path: string, body?: unknown) =>
  send(server.port, "POST", path, headers, body === undefined ? undefined : JSON.stringify(body))

describe("serve's JSON API", () => {
  it("GET /api/tasks is the array ls --json --all prints", async () => {
    const r = await get("/api/tasks")
    expect(r.status).toBe(200)
    const cli = await server.runtime.runPromise(
      Effect.flatMap(Tasks, (t) => t.list({ includeArchived: true })),
    )
    expect(JSON.parse(r.body)).toEqual(JSON.parse(JSON.stringify(cli.views.map(viewJson))))
    const ids = (JSON.parse(r.body) as Array<{ id: string }>).map((t) => t.id)
    expect(ids).toEqual(expect.arrayContaining([DONE, DEAD, FAILED, ARCHIVED, PLAIN]))
  })

  it("GET /api/tasks/ID (or a unique prefix) is what status --json ID prints", async () => {
    const r = await get(`/api/tasks/${DONE.slice(0, 10)}`)
    expect(r.status).toBe(200)
    const task = JSON.parse(r.body)
    expect(task.id).toBe(DONE)
    expect(task.state).toBe("STOPPED")
    // status --json's own keys, which ls --json leaves out.
    expect(task).toHaveProperty("last_turn_files")
    expect(task).toHaveProperty("worktree", null)
  })

  it("answers 404 with the CLI's message for an unknown task, 400 for an ambiguous prefix", async () => {
    const r = await get("/api/tasks/ffffffff")
    expect(r.status).toBe(404)
    expect(JSON.parse(r.body).error).toMatch(/ffffffff/)
    const ambiguous = await get("/api/tasks/0199d7")
    expect(ambiguous.status).toBe(400)
    for (const path of ["/prompts", "/stop", "/archive", "/apply"]) {
      const p = await post(`/api/tasks/ffffffff${path}`, path === "/prompts" ? { prompt: "x" } : {})
      expect(`${path}: ${p.status}`).toBe(`${path}: 404`)
    }
  })

  it("answers 400 for a body that is not the documented shape", async () => {
    for (const body of ["not json", JSON.stringify({ prompt: 3 }), JSON.stringify({ nope: 1 })]) {
      const r = await send(server.port, "POST", `/api/tasks/${PLAIN}/prompts`, headers, body)
      expect(r.status).toBe(400)
      expect(JSON.parse(r.body)).toHaveProperty("error")
    }
    expect(server.calls.sends).toEqual([])
  })

  it("approves and declines the request a task waits for, as approve and decline do", async () => {
    const id = "0199d7c5-0000-7000-8000-00000000cccc"
    const dir = writeTask(server.storeRoot, id, {
      state: "RUNNING",
      waiting: {
        for: "approval",
        since: "2026-12-08T02:00:00Z",
        request: { kind: "command", command: "make deploy" },
      },
    })
    // This process stands in for the task's live worker.
    await Effect.runPromise(writeWorker(dir, currentIdentity()))
    const yes = await post(`/api/tasks/${id}/approve`, { forSession: true })
    expect([yes.status, JSON.parse(yes.body)]).toEqual([200, { id, decision: "acceptForSession" }])
    expect(JSON.parse(readFileSync(join(dir, "approval.json"), "utf8"))).toMatchObject({
      decision: "acceptForSession",
    })
    const no = await post(`/api/tasks/${id}/decline`, { message: "not on a Friday" })
    expect(no.status).toBe(200)
    expect(JSON.parse(readFileSync(join(dir, "approval.json"), "utf8"))).toMatchObject({
      decision: "decline",
      message: "not on a Friday",
    })
    const notWaiting = await post(`/api/tasks/${PLAIN}/approve`, {})
    expect(notWaiting.status, notWaiting.body).toBe(409)
    expect(JSON.parse(notWaiting.body).error).toContain("is not waiting for an approval")
    const bad = await post(`/api/tasks/${id}/approve`, { forSession: "yes" })
    expect(bad.status).toBe(400)
    const foreign = await send(
      server.port,
      "POST",
      `/api/tasks/${id}/approve`,
      { ...headers, origin: "http://evil.example" },
      "{}",
    )
    expect(foreign.status).toBe(403)
  })

  it("answers 409 for a stop of a task that is not running, with the CLI's words", async () => {
    const r = await post(`/api/tasks/${DONE}/stop`)
    expect(r.status).toBe(409)
    expect(JSON.parse(r.body).error).toBe(`Task ${DONE} is not running.`)
  })

  it("sends a prompt through the gate and answers send --json", async () => {
    const r = await post(`/api/tasks/${PLAIN}/prompts`, { prompt: "next step" })
    expect(r.status).toBe(201)
    expect(JSON.parse(r.body)).toEqual({ id: PLAIN, seq: 1, status: "started" })
  })

  it("starts a task only as MCP task_start would: unsafe options refused, directories confined", async () => {
    const unsafe = await post("/api/tasks", { prompt: "go", sandbox: "danger-full-access" })
    expect(unsafe.status).toBe(400)
    expect(JSON.parse(unsafe.body).error).toContain('sandbox: "danger-full-access" is refused')
    const outside = await post("/api/tasks", { prompt: "go", workingDir: "/" })
    expect(outside.status).toBe(400)
    expect(JSON.parse(outside.body).error).toContain("outside the directories")
    const hook = await post("/api/tasks", { prompt: "go", onFinish: "rm -rf ~" })
    expect(hook.status).toBe(400)
    expect(server.calls.starts).toEqual([])
    const ok = await post("/api/tasks", { prompt: "go" })
    expect(ok.status).toBe(201)
    expect(JSON.parse(ok.body)).toHaveProperty("id")
    expect(server.calls.starts.map((s) => s.prompt)).toEqual(["go"])
  })

  it("archives a task that is not running, and says so as archive does", async () => {
    const r = await post(`/api/tasks/${FAILED}/archive`)
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body).message).toMatch(new RegExp(`^Task ${FAILED} archived to `))
  })

  it("serves the raw JSONL log byte for byte", async () => {
    const r = await get(`/api/tasks/${DONE}/log`)
    expect(r.status).toBe(200)
    expect(r.headers["content-type"]).toContain("application/x-ndjson")
    expect(r.body).toBe(readFileSync(join(server.storeRoot, DONE, "task.log"), "utf8"))
  })

  it("puts no environment variable in any payload", async () => {
    const bodies = await Promise.all(
      ["/api/tasks", `/api/tasks/${DONE}`, `/api/tasks/${DONE}/log`, "/", "/app.js"].map(get),
    )
    for (const b of bodies) expect(b.body).not.toContain(SECRET)
  })
})
