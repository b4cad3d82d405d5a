import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectLive, type LiveMessage } from "../support/liveClient.js"
import { DONE, writeTask } from "../support/mcpInProcess.js"
import { serveInProcess, TOKEN } from "../support/serveInProcess.js"

// The live channel: a board snapshot then numbered deltas, resumed after a reconnect without gaps
// or duplicates; a task's transcript as `log` renders it, followed as the log grows.

let server: Awaited<ReturnType<typeof serveInProcess>>
let headers: Record<string, string>

beforeAll(async () => {
  server = await serveInProcess()
  headers = { host: `127.0.0.1:${server.port}`, authorization: `Bearer ${TOKEN}` }
})
afterAll(async () => {
  await server.close()
})

type Row = { readonly id: string; readonly title: string | null }
const upserted = (m: LiveMessage) => (m.data.upsert as ReadonlyArray<Row> | undefined) ?? []

describe("the live channel", () => {
  it("sends a snapshot, then a task written meanwhile as a delta; a resume replays only what was missed", async () => {
    const first = await connectLive(server.port, headers)
    const hello = await first.until((m) => m.topic === "hello")
    const epoch = hello.data.epoch
    first.send({ op: "subscribe", topic: "board" })
    const snapshot = await first.until((m) => m.topic === "board" && "snapshot" in m.data)
    expect((snapshot.data.snapshot as ReadonlyArray<Row>).map((r) => r.id)).toContain(DONE)
    const a = "0199d7c6-0000-7000-8000-00000000000a"
    writeTask(server.storeRoot, a, { title: "written while watching" })
    const delta = await first.until((m) => upserted(m).some((r) => r.id === a))
    expect(delta.seq).toBe(snapshot.seq + 1)
    first.close()
    // While no page listens, two more tasks appear.
    const b = "0199d7c6-0000-7000-8000-00000000000b"
    writeTask(server.storeRoot, b, { title: "missed one" })
    const c = "0199d7c6-0000-7000-8000-00000000000c"
    await new Promise((r) => setTimeout(r, 400))
    writeTask(server.storeRoot, c, { title: "missed two" })
    const watcher = await connectLive(server.port, headers)
    await watcher.until((m) => m.topic === "hello")
    // A reference client that saw everything, to know when c has been published.
    watcher.send({ op: "subscribe", topic: "board", after: delta.seq, epoch })
    await watcher.until((m) => upserted(m).some((r) => r.id === c))
    const board = watcher.received.filter((m) => m.topic === "board")
    expect(board.some((m) => "snapshot" in m.data)).toBe(false)
    expect(board.map((m) => m.seq)).toEqual(board.map((_, i) => delta.seq + 1 + i))
    const ids = board.flatMap((m) => upserted(m).map((r) => r.id))
    expect(ids.filter((id) => id === b)).toHaveLength(1)
    expect(ids).not.toContain(a)
    watcher.close()
  })

  it("shows a task's tokens as its budget counts them, with the budget", async () => {
    const live = await connectLive(server.port, headers)
    await live.until((m) => m.topic === "hello")
    live.send({ op: "subscribe", topic: "board" })
    const id = "0199d7c6-0000-7000-8000-0000000000dd"
    writeTask(server.storeRoot, id, {
      usage: {
        input_tokens: 1200,
        cached_input_tokens: 1000,
        output_tokens: 80,
        reasoning_output_tokens: 40,
      },
      limits: { max_tokens: 5000 },
    })
    const m = await live.until((x) => upserted(x).some((r) => r.id === id))
    const row = upserted(m).find((r) => r.id === id) as unknown as Record<string, unknown>
    expect([row.tokens_used, row.token_budget]).toEqual([1280, 5000])
    live.close()
  })

  it("a resume from another server's numbers gets a snapshot", async () => {
    const live = await connectLive(server.port, headers)
    await live.until((m) => m.topic === "hello")
    live.send({ op: "subscribe", topic: "board", after: 1, epoch: "another-server" })
    await live.until((m) => m.topic === "board" && "snapshot" in m.data)
    live.close()
  })

  it("follows a task's transcript as log renders it, numbered by log offset", async () => {
    const live = await connectLive(server.port, headers)
    await live.until((m) => m.topic === "hello")
    live.send({ op: "subscribe", topic: `log:${DONE}` })
    const topic = `log:${DONE}`
    await live.until(
      (m) => m.topic === topic && String(m.data.text).includes("synchronous DNS lookup"),
    )
    const before = live.received.filter((m) => m.topic === topic).at(-1)
    appendFileSync(
      join(server.storeRoot, DONE, "task.log"),
      `${JSON.stringify({ type: "item.completed", item: { id: "item_9", type: "agent_message", text: "a line written later" } })}\n`,
    )
    const later = await live.until(
      (m) => m.topic === topic && String(m.data.text).includes("a line written later"),
    )
    expect(later.data.from).toBe(before?.seq)
    // Resuming from the last offset sends nothing twice.
    live.send({ op: "unsubscribe", topic })
    live.send({ op: "subscribe", topic, after: later.seq })
    const resumed = await live.until((m) => m.topic === topic && m.data.from === later.seq)
    expect(resumed.data.text).toBe("")
    live.close()
  })

  it("refuses an unknown task's transcript with the CLI's message", async () => {
    const live = await connectLive(server.port, headers)
    await live.until((m) => m.topic === "hello")
    live.send({ op: "subscribe", topic: "log:ffffffff" })
    const refused = await live.until((m) => m.topic === "log:ffffffff")
    expect(String(refused.data.error)).toMatch(/ffffffff/)
    live.close()
  })
})
