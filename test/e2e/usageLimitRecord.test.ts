import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import { usageIdentityOf } from "../../src/worker/usageIdentity.js"
import { type CliSandbox, makeCliSandbox, readLog, runCli, waitForState } from "../support/cli.js"
import { fakeId, writeFakeTask } from "../support/watchHelpers.js"

// Issue 20 (§2.1) through the built CLI: a usage-limit reset the store knows of, past
// --max-limit-wait, used to make `send --wait` print the previous answer and exit 0 while the
// prompt silently never ran. No codex runs here: the worker gives up before the turn.

const sandboxes: Array<CliSandbox> = []
afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.dispose()
})

describe("the store's usage-limit record", () => {
  it("a reset past --max-limit-wait: send --wait exits 3, the prompt is listed as dropped", async () => {
    const sandbox = await makeCliSandbox({ url: "http://127.0.0.1:9" })
    sandboxes.push(sandbox)
    const id = fakeId(2)
    await writeFakeTask(sandbox, id, {
      last_result: "the previous answer",
      last_outcome: { kind: "completed", at: "2025-01-02T03:05:06.000Z" },
      limits: { max_limit_wait_ms: 3_600_000 },
    })
    const who = await Effect.runPromise(usageIdentityOf({}, sandbox.env))
    const now = Date.now()
    await writeFile(
      join(sandbox.storeRoot, ".usage-limit.json"),
      JSON.stringify({
        until: new Date(now + 3 * 24 * 3_600_000).toISOString(),
        recorded_at: new Date(now).toISOString(),
        codex_home: who.codexHome,
        ...(who.account === undefined ? {} : { account: who.account }),
      }),
    )

    const sent = await runCli(sandbox, ["send", "--wait", id, "the next step"])
    assert.strictEqual(sent.code, 3, sent.stderr)
    assert.strictEqual(sent.stdout, "", "the previous answer is not printed as this one's")
    assert.match(sent.stderr, /DIED.*UsageLimitReached|UsageLimitReached.*DIED/s)
    assert.match(sent.stderr, /past --max-limit-wait \(1h\)/)

    const { meta } = await waitForState(sandbox, id, "DIED")
    assert.strictEqual(meta.dropped_prompts, 1)
    const dropped = (await readLog(sandbox, id)).filter((e) => e.type === "prompts_dropped")
    assert.deepStrictEqual(
      dropped.map((e) => e.prompts),
      [["the next step"]],
    )
  }, 60_000)
})
