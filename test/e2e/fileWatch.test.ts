import { afterEach, describe, it } from "vitest"
import { type CliSandbox, cliPath, makeCliSandbox } from "../support/cli.js"
import { followSeesAppend, waitSeesFinish } from "../support/watchReaction.js"

// The file watching `log -f` and `status --wait` rely on (node's fs.watch: no native package of
// ours), through the built CLI, with the slow re-check an hour away: only file events can make
// them react. Hand-made tasks (no codex run); each test has its own store.

const sandboxes: Array<CliSandbox> = []
afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.dispose()
})
const sandbox = async () => {
  // No codex runs here: the model server address is never used.
  const s = await makeCliSandbox({ url: "http://127.0.0.1:9/v1" })
  sandboxes.push(s)
  return s
}
const cli = [process.execPath, cliPath]

describe("file watching", () => {
  it("log -f shows an appended line and ends when the task stops, without the re-check", async () => {
    await followSeesAppend(await sandbox(), cli)
  })

  it("status --wait returns when the task stops, without the re-check", async () => {
    await waitSeesFinish(await sandbox(), cli)
  })
})
