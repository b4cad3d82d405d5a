import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { type OpenCliWorld, openCliWorld } from "../support/cliInProcess.js"

// Found by the crash sweep (`budget`, the worker killed while it dropped the queued prompts of a
// task whose budget was spent): the prompts had left the queue (`.dropping`) but no drop was
// recorded, and no worker would ever run for the task again to record it; prompts it had left
// queued stayed queued for good. `stop` now records the one and drops the other.

const ID = "01a2520b-7ac4-71f0-824d-2949de69fec3"
const PROMPT = "sweep 50 two"
const QUEUED = "sweep 50 three"

const worlds: Array<OpenCliWorld> = []
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close()
})

describe("stop of a task with no worker", () => {
  it("records a drop its lost worker cut short, and drops what it left queued", async () => {
    const world = await openCliWorld([], (root) => {
      const dir = join(root, ID)
      mkdirSync(join(dir, "inbox"), { recursive: true, mode: 0o700 })
      writeFileSync(
        join(dir, "task.json"),
        JSON.stringify({
          id: ID,
          state: "STOPPED",
          created_at: "2026-12-07T19:00:00.000Z",
          updated_at: "2026-12-07T19:00:00.000Z",
          inbox_done_seq: 1,
        }),
      )
      writeFileSync(join(dir, "task.log"), "")
      writeFileSync(join(dir, "inbox", ".seq"), "2\n")
      writeFileSync(
        join(dir, "inbox", "000000000002.dropping"),
        JSON.stringify({ seq: 2, prompt: PROMPT, accepted_at: "2026-12-07T19:00:01.000Z" }),
      )
      // ... and one it had left queued (a stop of its run would have dropped it)
      writeFileSync(
        join(dir, "inbox", "000000000003.json"),
        JSON.stringify({ seq: 3, prompt: QUEUED, accepted_at: "2026-12-07T19:00:02.000Z" }),
      )
    })
    worlds.push(world)
    const run = await world.run(["stop", ID])
    assert.strictEqual(run.code, 1, run.stderr) // not running: exit 1, as documented
    assert.include(run.stdout, "is not running")
    const log = readFileSync(join(world.root, ID, "task.log"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l))
    const dropped = log.filter((e) => e.type === "prompts_dropped")
    assert.deepStrictEqual(
      dropped.map((e) => e.prompts),
      [[PROMPT], [QUEUED]],
    )
    assert.deepStrictEqual(readdirSync(join(world.root, ID, "inbox")), [".seq"])
    const status = await world.run(["status", "--json", ID])
    assert.strictEqual(JSON.parse(status.stdout).dropped_prompts, 2)
  })
})
