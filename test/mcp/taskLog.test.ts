import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { connectInProcess, DONE, text } from "../support/mcpInProcess.js"

// task_log reads at most a page of the log per call (256 KiB by default, docs/mcp.md) and pages
// through the rest with nextOffset / hasMore, whatever the lines look like.

const PAGE = 256 * 1024

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const message = (i: number, body: string) =>
  JSON.stringify({
    type: "item.completed",
    item: { id: `m${i}`, type: "agent_message", text: body },
  })

/** A log of 1.1 MB: many small events with multi-byte text, and one event of 700 KB. */
const bigLog = () => {
  const lines: Array<string> = []
  for (let i = 0; i < 2_000; i++) lines.push(message(i, `answer ${i}: naïve café 日本語 🦀`))
  lines.push(message(2_000, `HUGE ${"é🦀x".repeat(100_000)} END`))
  for (let i = 2_001; i < 4_000; i++) lines.push(message(i, `answer ${i}: ok`))
  return `${lines.join("\n")}\n`
}

interface Page {
  readonly content: string
  readonly events: number
  readonly nextOffset: number
  readonly hasMore: boolean
  readonly partialEvent: boolean
}

const setup = async (log: string) => {
  const session = await connectInProcess()
  cleanups.push(session.close)
  const path = join(session.storeRoot, DONE, "task.log")
  writeFileSync(path, log)
  /** Every page from `first` on, following nextOffset while hasMore (bounded: no endless loop). */
  const pages = async (first: Record<string, unknown>) => {
    const out: Array<Page> = []
    let args: Record<string, unknown> = { taskId: DONE, ...first }
    for (let calls = 0; calls < 2_000; calls++) {
      const r = await session.call("task_log", args)
      assert.notStrictEqual(r.isError, true, text(r))
      const page = r.structuredContent as unknown as Page
      out.push(page)
      if (page.hasMore !== true) return out
      args = { ...args, since: page.nextOffset }
      delete args.tail
    }
    throw new Error("task_log never reported the end of the log")
  }
  return { ...session, path, pages }
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8")

describe("task_log pages", () => {
  it("returns a log larger than a page in pages that together are the log, byte for byte", async () => {
    const log = bigLog()
    const { pages, path } = await setup(log)
    const all = await pages({ format: "jsonl" })
    assert.isAbove(all.length, 4)
    for (const p of all) assert.isAtMost(bytes(p.content), PAGE)
    assert.isTrue(
      Buffer.from(all.map((p) => p.content).join(""), "utf8").equals(readFileSync(path)),
    )
    assert.strictEqual(all.at(-1)?.nextOffset, bytes(log))
    // The 700 KiB event comes in pieces: every piece but the last ends mid-event.
    const split = all.filter((p) => p.partialEvent)
    assert.isAtLeast(split.length, 2)
    for (const p of split) assert.notStrictEqual(p.content.at(-1), "\n")
    assert.strictEqual(
      all.reduce((n, p) => n + p.events, 0),
      4_000,
    )
  })

  it("pages with a smaller maxBytes, splitting an event only at character boundaries", async () => {
    const log = [message(0, "short"), message(1, "日本語🦀".repeat(3_000)), message(2, "tail")]
      .map((l) => `${l}\n`)
      .join("")
    const { pages } = await setup(log)
    const all = await pages({ format: "jsonl", maxBytes: 4_096 })
    for (const p of all) {
      assert.isAtMost(bytes(p.content), 4_096)
      assert.notInclude(p.content, "\uFFFD")
    }
    assert.strictEqual(all.map((p) => p.content).join(""), log)
  })

  it("renders the transcript page by page and steps over an event larger than a page", async () => {
    const { pages } = await setup(bigLog())
    const all = await pages({})
    // The small events before it, the large one alone, the small events after it.
    assert.strictEqual(all.length, 3)
    for (const p of all) assert.isAtMost(bytes(p.content), PAGE + 1_024)
    const transcript = all.map((p) => p.content).join("")
    for (const i of [0, 1_999, 2_001, 3_999]) assert.include(transcript, `answer ${i}:`)
    assert.notInclude(transcript, "HUGE")
    assert.match(transcript, /event of [\d,]+ bytes .*format: "jsonl"/)
    assert.isFalse(all.some((p) => p.partialEvent))
  })

  it("pages forward from a tail that is larger than a page", async () => {
    const log = bigLog()
    const { pages } = await setup(log)
    const all = await pages({ tail: 2_500, format: "jsonl" })
    const lines = log.trimEnd().split("\n")
    assert.isAbove(all.length, 1)
    assert.strictEqual(all.map((p) => p.content).join(""), `${lines.slice(-2_500).join("\n")}\n`)
  })

  it("the log resource shows the last events that fit in a page", async () => {
    const lines = Array.from({ length: 600 }, (_, i) =>
      message(i, `event ${i} ${"x".repeat(2_000)}`),
    )
    const { client } = await setup(`${lines.join("\n")}\n`)
    const read = await client.readResource({ uri: `task://${DONE}/log` })
    const shown = (read.contents[0] as { text: string }).text
    assert.isAtMost(bytes(shown), PAGE)
    assert.include(shown, "event 599 ")
    assert.notInclude(shown, "event 100 ")
  })
})
