import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { type OpenCliWorld, openCliWorld } from "../support/cliInProcess.js"

// Found by the crash sweep (`budget` scenario, a `send` killed while it wrote `inbox/.seq`): the
// half-written file stayed for good when no worker ever ran for the task again.

const ID = "01a2520b-7ac4-71f0-824d-2949de69fec3"
// pid 2^22 + 1 is above Linux's pid_max: its writer is never alive
const DEAD = "..seq.4194305.a9777c5c23fa.tmp"
const LIVE = `..seq.${process.pid}.a9777c5c23fa.tmp`

const worlds: Array<OpenCliWorld> = []
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close()
})

describe("stop -a", () => {
  it("removes what a killed command half-wrote in a task's inbox, and nothing else", async () => {
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
        }),
      )
      writeFileSync(join(dir, "inbox", ".seq"), "1\n")
      writeFileSync(join(dir, "inbox", DEAD), "2")
      writeFileSync(join(dir, "inbox", LIVE), "2")
    })
    worlds.push(world)
    const run = await world.run(["stop", "-a"])
    assert.strictEqual(run.code, 0, run.stderr)
    const inbox = join(world.root, ID, "inbox")
    assert.deepStrictEqual(readdirSync(inbox).sort(), [LIVE, ".seq"].sort())
    assert.isTrue(existsSync(join(world.root, ID, "task.json")))
  })
})
