import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, assert, describe, it } from "vitest"
import { type CliSandbox, makeCliSandbox, runCli, taskDir, waitForState } from "../support/cli.js"

// Issue 10 item 14: a 64 MiB agent_message line (over the 8 MiB decoding cap) through a real run
// of the built CLI, with a stub codex (test/support/longLineCodex.mjs) printing it. Before the
// linear splitter the exec client alone needed minutes for it (bench/long-line.mjs); here each
// step only has to finish within the test timeout.

const stub = fileURLToPath(new URL("../support/longLineCodex.mjs", import.meta.url))
const SIZE = 64 * 1024 * 1024

/** An item.completed agent_message line of exactly `size` bytes (ASCII, UTF-8, JSON escapes). */
const longLine = (size: number): Buffer => {
  const head = '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"'
  const tail = '"}}'
  const piece = 'long line é ✓ \\"quoted\\"\\n ok. '
  const room = size - Buffer.byteLength(head) - Buffer.byteLength(tail)
  const n = Math.floor(room / Buffer.byteLength(piece))
  return Buffer.from(
    head + piece.repeat(n) + "x".repeat(room - n * Buffer.byteLength(piece)) + tail,
  )
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe("a 64 MiB agent_message line", () => {
  it("is kept byte for byte, and status and log finish", async () => {
    // The stub never talks to a model server.
    const sandbox: CliSandbox = await makeCliSandbox(
      { url: "http://127.0.0.1:9/v1" },
      { codexBin: stub },
    )
    cleanups.push(sandbox.dispose)
    const line = longLine(SIZE)
    assert.strictEqual(line.length, SIZE)
    const lineFile = join(sandbox.cwd, "line.jsonl")
    writeFileSync(lineFile, line)
    const env = { LONG_LINE_FILE: lineFile }

    const started = await runCli(sandbox, ["start", "--skip-git-repo-check", "long line"], { env })
    assert.strictEqual(started.code, 0, started.stderr)
    const id = started.stdout.trim()
    await waitForState(sandbox, id, "STOPPED", { timeoutMs: 90_000 })

    // task.log: the line between thread.started/turn.started and turn.completed, byte for byte.
    const log = readFileSync(join(taskDir(sandbox, id), "task.log"))
    const at = log.indexOf(line)
    assert.isAbove(at, 0, "the line is in task.log")
    assert.strictEqual(log[at - 1], 0x0a, "it starts a line")
    assert.strictEqual(log[at + SIZE], 0x0a, "it ends there")
    const after = log.subarray(at + SIZE + 1).toString("utf8")
    assert.match(after, /^\{"type":"turn\.completed"/)

    const text = (JSON.parse(line.toString("utf8")) as { item: { text: string } }).item.text
    const status = await runCli(sandbox, ["status", "--json", id])
    assert.strictEqual(status.code, 0, status.stderr)
    const view = JSON.parse(status.stdout) as { state: string; last_result: string; turns: number }
    assert.strictEqual(view.state, "STOPPED")
    assert.strictEqual(view.turns, 1)
    assert.strictEqual(view.last_result, text, "status shows the final message")
    const human = await runCli(sandbox, ["status", id])
    assert.strictEqual(human.code, 0, human.stderr)
    assert.include(human.stdout, `Last Result: ${text.slice(0, 100)}`)

    // The human transcript shows what the line is, not 64 MiB of it.
    const transcript = await runCli(sandbox, ["log", id])
    assert.strictEqual(transcript.code, 0, transcript.stderr)
    assert.include(
      transcript.stdout,
      `[item.completed agent_message] line of 67,108,864 bytes is over the 8 MiB decoding cap: not shown (codex-tasks log --json ${id} prints it)`,
    )
    assert.isBelow(transcript.stdout.length, 10_000)
    assert.include(transcript.stdout, "tokens used")

    const json = await runCli(sandbox, ["log", "--json", id])
    assert.strictEqual(json.code, 0, json.stderr)
    assert.isTrue(Buffer.from(json.stdout).equals(log), "log --json prints task.log byte for byte")
  })
})
