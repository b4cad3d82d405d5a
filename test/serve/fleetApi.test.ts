import { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Placed } from "../../src/cluster/client.js"
import { FleetError } from "../../src/cluster/protocol.js"
import { redactUrlIn } from "../../src/domain/notify.js"
import type { SendJson, TaskJson } from "../../src/domain/wire.js"
import type { FleetStart } from "../../src/gate/fleetGate.js"
import {
  APPLY_ON_FLEET,
  type FleetOps,
  fleetApiRouter,
  fleetRefusalOf,
} from "../../src/serve/fleetApi.js"
import { followFleetLog, makeFleetBoard } from "../../src/serve/fleetBoard.js"
import { listenAndServe } from "../../src/serve/server.js"
import { TaskNotFound } from "../../src/store/errors.js"
import { connectLive, type LiveMessage } from "../support/liveClient.js"
import { send, TOKEN } from "../support/serveInProcess.js"

// `serve --cluster`'s API and live feeds on a fake fleet (FleetOps in memory): the local API's
// answers with the host, the board fed by polling, a log followed chunk by chunk, and the
// fleet's refusals (paths, tasks started elsewhere, apply, a host that is down).

const A = "0199d7c6-0000-7000-8000-0000000000a1"
const B = "0199d7c6-0000-7000-8000-0000000000b2"
const PASSWORD = "hunter2"

const taskJson = (id: string, host: string, extra: Partial<TaskJson> = {}): TaskJson =>
  ({
    id,
    title: `task on ${host}`,
    state: "RUNNING",
    created_at: "2026-12-08T01:00:00Z",
    updated_at: "2026-12-08T01:00:00Z",
    last_prompt: "hi",
    last_result: null,
    working_dir: "/srv/work",
    pid: null,
    initial_prompt: "hi",
    outcome: null,
    queued_prompts: 0,
    dropped_prompts: 0,
    turns: 1,
    usage: null,
    archived: false,
    path: `/srv/store/${id}`,
    worker_stderr: null,
    result_json: null,
    waiting: null,
    leftover_processes: [],
    last_turn_files: [],
    worktree: null,
    host,
    ...extra,
  }) as unknown as TaskJson

const LINES = [
  '{"type":"user_message","message":"Why is request latency spiking?"}',
  '{"type":"thread.started","thread_id":"x"}',
  '{"type":"turn.started"}',
]

/** A fleet in memory: hosts alpha (live) and beta (down), a log per task, every call recorded. */
const fakeFleet = () => {
  const tasks = new Map<string, TaskJson>([
    [A, taskJson(A, "alpha")],
    [B, taskJson(B, "beta", { state: "STOPPED", host_lost_since: "2026-12-08T01:02:00.000Z" })],
  ])
  const logs = new Map<string, Buffer>([[A, Buffer.from(`${LINES.join("\n")}\n`)]])
  /** Hosts whose runner is gone: their log requests fail as the client's do. */
  const lost = new Set<string>()
  const calls = {
    starts: [] as Array<{ on: string | undefined; request: FleetStart }>,
    sends: [] as Array<string>,
    answers: [] as Array<Record<string, unknown>>,
  }
  const down = (what: string) =>
    Effect.fail(
      new FleetError({
        message: `Cannot ${what}: host beta is unreachable (postgres://codex:${PASSWORD}@db/fleet)`,
        usage: false,
      }),
    )
  const find = (ref: string) => [...tasks.keys()].filter((id) => id.startsWith(ref))
  const ops: FleetOps = {
    list: () => Effect.sync(() => [...tasks.values()]),
    resolve: (ref) => {
      const [id] = find(ref)
      const t = id === undefined ? undefined : tasks.get(id)
      return t === undefined || t.host === undefined
        ? Effect.fail(new TaskNotFound({ ref }))
        : Effect.succeed({ id: t.id, host: t.host })
    },
    status: (task) => Effect.succeed(tasks.get(task.id) as TaskJson),
    start: (on, request) =>
      Effect.sync(() => {
        calls.starts.push({ on, request })
        const id = `0199d7c6-0000-7000-8000-00000000000${calls.starts.length}`
        tasks.set(id, taskJson(id, on ?? "alpha"))
        return { id, host: on ?? "alpha" } satisfies Placed
      }),
    send: (task, prompt) =>
      Effect.sync(() => {
        calls.sends.push(prompt)
        return task.host === "beta"
          ? undefined
          : ({ id: task.id, seq: calls.sends.length, status: "started" } as SendJson)
      }),
    stop: (task) =>
      task.host === "beta"
        ? down("stop")
        : Effect.succeed({ status: "not-running" as const, message: "" }),
    archive: (task) => Effect.succeed({ id: task.id, status: "skipped", state: "RUNNING" }),
    answer: (task, given) =>
      task.host === "beta"
        ? down("answer")
        : Effect.sync(() => {
            calls.answers.push({ id: task.id, ...given })
            return { id: task.id }
          }),
    diff: (task) => (task.host === "beta" ? down("diff") : Effect.die("not in these tests")),
    // Chunks of at most 40 bytes: the log comes in several.
    // A running task's host waits a moment for new bytes when there are none.
    logChunk: (task, offset, waitMs, lastLines) =>
      Effect.gen(function* () {
        if (lost.has(task.host)) return yield* down("read the log of")
        const log = logs.get(task.id) ?? Buffer.alloc(0)
        const from = lastLines === undefined ? offset : 0
        const bytes = log.subarray(from, from + 40)
        if (bytes.length === 0 && waitMs > 0) yield* Effect.sleep(20)
        return { bytes: new Uint8Array(bytes), next: from + bytes.length, running: true }
      }),
  }
  return { ops, tasks, logs, calls, lost }
}

let fleet: ReturnType<typeof fakeFleet>
let port: number
let scope: Scope.CloseableScope
let closeConnections: () => void
let headers: Record<string, string>

const request = async (method: string, path: string, body?: unknown) => {
  const r = await send(
    port,
    method,
    path,
    { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body === undefined ? undefined : JSON.stringify(body),
  )
  return { status: r.status, json: r.body === "" ? undefined : JSON.parse(r.body), body: r.body }
}

beforeAll(async () => {
  fleet = fakeFleet()
  scope = Effect.runSync(Scope.make())
  const board = makeFleetBoard(fleet.ops)
  const started = await Effect.runPromise(
    Effect.gen(function* () {
      yield* board.refresh
      yield* Effect.forkScoped(board.keepFresh(50))
      return yield* listenAndServe(
        { host: "127.0.0.1", port: 0, allowedHosts: [], token: TOKEN, maxRunning: undefined },
        {
          api: fleetApiRouter(fleet.ops, {
            allowUnsafe: false,
            cwd: "/nowhere",
            roots: ["/nowhere"],
            startedHere: new Set(),
            redact: (text) => text.replaceAll(PASSWORD, "***"),
          }),
          live: {
            board: board.feed,
            maxRunning: undefined,
            fleet: true,
            followLog: followFleetLog(fleet.ops, undefined, 50),
          },
        },
      )
    }).pipe(Scope.extend(scope)),
  )
  port = started.port
  closeConnections = started.closeConnections
  headers = { host: `127.0.0.1:${port}`, authorization: `Bearer ${TOKEN}` }
})
afterAll(async () => {
  closeConnections()
  await Effect.runPromise(Scope.close(scope, Exit.void))
})

describe("serve --cluster's API", () => {
  it("lists every host's tasks with their host, a lost host's marked; a task's status from its host", async () => {
    const list = await request("GET", "/api/tasks")
    expect(list.status).toBe(200)
    const rows = list.json as ReadonlyArray<TaskJson>
    expect(rows.map((t) => [t.id, t.host, t.host_lost_since ?? null])).toEqual([
      [A, "alpha", null],
      [B, "beta", "2026-12-08T01:02:00.000Z"],
    ])
    const one = await request("GET", `/api/tasks/${A.slice(0, 30)}`)
    expect([one.status, one.json.id, one.json.host]).toEqual([200, A, "alpha"])
    const none = await request("GET", "/api/tasks/ffff")
    expect(none.status).toBe(404)
  })

  it("starts on the host asked for; refuses paths on the host and sends to tasks it did not start", async () => {
    const started = await request("POST", "/api/tasks", { prompt: "build it", on: "alpha" })
    expect(started.status).toBe(201)
    expect(started.json.host).toBe("alpha")
    expect(fleet.calls.starts.at(-1)).toMatchObject({
      on: "alpha",
      request: { prompt: "build it" },
    })
    const path = await request("POST", "/api/tasks", { prompt: "x", workingDir: "/etc" })
    expect(path.status).toBe(400)
    expect(path.json.error).toContain("workingDir is refused: it is a path on the task's host")
    const fed = await request("POST", `/api/tasks/${started.json.id}/prompts`, { prompt: "more" })
    expect([fed.status, fed.json.status]).toEqual([201, "started"])
    const foreign = await request("POST", `/api/tasks/${A}/prompts`, { prompt: "sneak" })
    expect(foreign.status).toBe(400)
    expect(foreign.json.error).toContain(
      `task ${A} is refused: it was not started through this server`,
    )
    expect(fleet.calls.sends).toEqual(["more"])
    // Its host without a live runner: the prompt is kept, and runs when the runner is back.
    const onBeta = await request("POST", "/api/tasks", { prompt: "later", on: "beta" })
    const kept = await request("POST", `/api/tasks/${onBeta.json.id}/prompts`, { prompt: "queued" })
    expect([kept.status, kept.json]).toEqual([202, { id: onBeta.json.id, status: "accepted" }])
  })

  it("approves and declines on the task's host, only for tasks it started; a host that is down is a 503", async () => {
    const started = await request("POST", "/api/tasks", { prompt: "ask first", on: "alpha" })
    const id = started.json.id as string
    const yes = await request("POST", `/api/tasks/${id}/approve`, { forSession: true })
    expect([yes.status, yes.json]).toEqual([
      200,
      { id, decision: "acceptForSession", host: "alpha" },
    ])
    const no = await request("POST", `/api/tasks/${id}/decline`, { message: "not that" })
    expect([no.status, no.json.decision]).toEqual([200, "decline"])
    expect(fleet.calls.answers.slice(-2)).toEqual([
      { id, decision: "acceptForSession" },
      { id, decision: "decline", message: "not that" },
    ])
    const foreign = await request("POST", `/api/tasks/${A}/approve`, {})
    expect(foreign.status).toBe(400)
    expect(foreign.json.error).toContain("it was not started through this server")
    const onBeta = await request("POST", "/api/tasks", { prompt: "later", on: "beta" })
    const lost = await request("POST", `/api/tasks/${onBeta.json.id}/approve`, {})
    expect(lost.status).toBe(503)
    expect(lost.body).not.toContain(PASSWORD)
    expect(fleet.calls.answers).toHaveLength(2)
  })

  it("refuses apply with a clear message; a host that is down is a 503 without the password", async () => {
    const apply = await request("POST", `/api/tasks/${A}/apply`, {})
    expect([apply.status, apply.json.error]).toEqual([400, APPLY_ON_FLEET])
    const stop = await request("POST", `/api/tasks/${B}/stop`)
    expect(stop.status).toBe(503)
    expect(stop.json.error).toContain("host beta is unreachable")
    expect(stop.body).not.toContain(PASSWORD)
    const idle = await request("POST", `/api/tasks/${A}/stop`)
    expect([idle.status, idle.json.error]).toEqual([409, `Task ${A} is not running.`])
    const archive = await request("POST", `/api/tasks/${A}/archive`)
    expect(archive.status).toBe(409)
  })

  it("answers a PostgreSQL failure 503, the fleet URL's password taken out", () => {
    const url = `postgres://codex:${PASSWORD}@db.internal:5432/fleet`
    const refusal = fleetRefusalOf(
      new SqlError({ cause: new Error(`connect ECONNREFUSED (${url})`), message: "failed" }),
      (text) => redactUrlIn(text, url),
    )
    expect(refusal.status).toBe(503)
    expect(refusal.message).toMatch(/^The fleet's PostgreSQL failed: connect ECONNREFUSED/)
    expect(refusal.message).not.toContain(PASSWORD)
  })

  it("downloads a task's log from its host byte for byte, over several chunks", async () => {
    const log = await send(port, "GET", `/api/tasks/${A}/log`, headers)
    expect(log.status).toBe(200)
    expect(log.body).toBe(`${LINES.join("\n")}\n`)
  })
})

describe("serve --cluster's live channel", () => {
  it("says it serves a fleet, sends the rows with their host, then a task's change from the next poll", async () => {
    const live = await connectLive(port, headers)
    try {
      const hello = await live.until((m) => m.topic === "hello")
      expect(hello.data.fleet).toBe(true)
      live.send({ op: "subscribe", topic: "board" })
      const snapshot = await live.until((m) => m.topic === "board" && "snapshot" in m.data)
      const rows = snapshot.data.snapshot as ReadonlyArray<TaskJson>
      expect(rows.find((r) => r.id === A)?.host).toBe("alpha")
      fleet.tasks.set(A, { ...(fleet.tasks.get(A) as TaskJson), state: "STOPPED" })
      const delta = await live.until((m: LiveMessage) =>
        ((m.data.upsert as ReadonlyArray<TaskJson> | undefined) ?? []).some(
          (r) => r.id === A && r.state === "STOPPED",
        ),
      )
      expect(delta.seq).toBeGreaterThan(snapshot.seq)
    } finally {
      live.close()
    }
  })

  it("follows a task's log from its host as it grows, each piece starting where the last ended", async () => {
    const live = await connectLive(port, headers)
    try {
      live.send({ op: "subscribe", topic: `log:${A}` })
      const first = await live.until(
        (m) => m.topic === `log:${A}` && String(m.data.text).includes("latency"),
      )
      expect(live.received.find((m) => m.topic === `log:${A}`)?.data.from).toBe(0)
      expect(String(first.data.text)).toContain("Why is request latency spiking?")
      const before = fleet.logs.get(A) as Buffer
      const added = '{"type":"user_message","message":"And the p99?"}\n'
      fleet.logs.set(A, Buffer.concat([before, Buffer.from(added)]))
      const next = await live.until(
        (m) => m.topic === `log:${A}` && String(m.data.text).includes("And the p99?"),
      )
      const pieces = live.received.filter((m) => m.topic === `log:${A}`)
      // Consecutive pieces: each starts where the one before ended (the page resumes from seq).
      for (let i = 1; i < pieces.length; i++) {
        expect(pieces[i]?.data.from).toBe(pieces[i - 1]?.seq)
      }
      expect(next.seq).toBe(before.length + Buffer.byteLength(added))
      // The host goes away while the log grows, and comes back: the follow goes on from where
      // it stopped, nothing lost or repeated.
      fleet.lost.add("alpha")
      const missed = '{"type":"user_message","message":"Written while the host was away"}\n'
      const grown = Buffer.concat([fleet.logs.get(A) as Buffer, Buffer.from(missed)])
      fleet.logs.set(A, grown)
      await new Promise((r) => setTimeout(r, 300))
      fleet.lost.delete("alpha")
      const resumed = await live.until(
        (m) => m.topic === `log:${A}` && String(m.data.text).includes("Written while the host"),
      )
      expect([resumed.data.from, resumed.seq]).toEqual([next.seq, grown.length])
      expect(live.received.some((m) => m.topic === `log:${A}` && "error" in m.data)).toBe(false)
    } finally {
      live.close()
    }
  })
})
