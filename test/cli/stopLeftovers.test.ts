import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { type OpenCliWorld, openCliWorld } from "../support/cliInProcess.js"

// `stop` of tasks whose last command or worker was killed (found by the crash sweep, issue 20).

const ID = "01a2520b-7ac4-71f0-824d-2949de69fec3"

const worlds: Array<OpenCliWorld> = []
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close()
})

/** A world whose store holds one STOPPED task with no worker; `files` adds what was left. */
const worldWithTask = async (files: Readonly<Record<string, string>>) => {
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
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  })
  worlds.push(world)
  return world
}

const entry = (seq: number, prompt: string) =>
  JSON.stringify({ seq, prompt, accepted_at: "2026-12-07T19:00:01.000Z" })

describe("stop -a", () => {
  // The `budget` scenario, a `send` killed while it wrote `inbox/.seq`: the half-written file
  // stayed for good when no worker ever ran for the task again.
  it("removes what a killed command half-wrote in a task's inbox, and nothing else", async () => {
    // pid 2^22 + 1 is above Linux's pid_max: its writer is never alive
    const dead = "inbox/..seq.4194305.a9777c5c23fa.tmp"
    const live = `inbox/..seq.${process.pid}.a9777c5c23fa.tmp`
    const world = await worldWithTask({ "inbox/.seq": "1\n", [dead]: "2", [live]: "2" })
    const run = await world.run(["stop", "-a"])
    assert.strictEqual(run.code, 0, run.stderr)
    const inbox = join(world.root, ID, "inbox")
    assert.deepStrictEqual(readdirSync(inbox).sort(), [live.slice(6), ".seq"].sort())
    assert.isTrue(existsSync(join(world.root, ID, "task.json")))
  })
})

describe("stop of a task with no worker", () => {
  // The `budget` scenario, the worker killed while it dropped the queued prompts of a task whose
  // budget was spent: the prompts had left the queue (`.dropping`) but no drop was recorded, and
  // no worker would ever run for the task again to record it; prompts it had left queued stayed
  // queued for good. `stop` now records the one and drops the other.
  it("records a drop its lost worker cut short, and drops what it left queued", async () => {
    const cut = "sweep 50 two"
    const queued = "sweep 50 three"
    const world = await worldWithTask({
      "inbox/.seq": "3\n",
      "inbox/000000000002.dropping": entry(2, cut),
      "inbox/000000000003.json": entry(3, queued),
    })
    const run = await world.run(["stop", ID])
    assert.strictEqual(run.code, 1, run.stderr) // not running: exit 1, as documented
    assert.include(run.stdout, "is not running")
    const log = readFileSync(join(world.root, ID, "task.log"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l))
    assert.deepStrictEqual(
      log.filter((e) => e.type === "prompts_dropped").map((e) => e.prompts),
      [[cut], [queued]],
    )
    assert.deepStrictEqual(readdirSync(join(world.root, ID, "inbox")), [".seq"])
    const status = await world.run(["status", "--json", ID])
    assert.strictEqual(JSON.parse(status.stdout).dropped_prompts, 2)
  })
})
