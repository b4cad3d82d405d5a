import { afterEach, assert, describe, it } from "vitest"
import { type ModelServer, startModelServer } from "../../src/testing/modelServer.js"

// The scripted server's issue-12 directives over plain HTTP: a usage-limit 429 with its reset,
// and faults counted per prompt (`~N`, `HANG:first`) so a resumed retry gets past them.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A request as a resumed thread sends it: `history` earlier user messages, then `prompt`. */
const post = (server: ModelServer, prompt: string, history = 0, signal?: AbortSignal) =>
  fetch(`${server.url}/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    ...(signal === undefined ? {} : { signal }),
    body: JSON.stringify({
      model: "mock-model",
      prompt_cache_key: "thread-a",
      input: [...Array(history + 1)].map((_, i) => ({
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: i === history ? prompt : `earlier ${i}` }],
      })),
    }),
  })

const serve = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  return server
}

describe("model server: usage limits and prompt-scoped faults", () => {
  it("HTTP:429:usage_limit_reached answers codex's usage-limit body with RESET's seconds", async () => {
    const server = await serve()
    const before = Math.floor(Date.now() / 1_000)
    const response = await post(server, "HTTP:429:usage_limit_reached\nRESET:90")
    assert.strictEqual(response.status, 429)
    const body = (await response.json()) as {
      error: { type: string; resets_in_seconds: number; resets_at: number }
    }
    assert.strictEqual(body.error.type, "usage_limit_reached")
    assert.strictEqual(body.error.resets_in_seconds, 90)
    assert.approximately(body.error.resets_at, before + 90, 2)
  })

  it("~1 fails only the first request carrying the prompt, also when the retry is longer", async () => {
    const server = await serve()
    const prompt = "HTTP:429:usage_limit_reached~1\nREPLY:ok"
    const first = await post(server, prompt)
    await first.text()
    const retry = await post(server, prompt, 1)
    assert.strictEqual(first.status, 429)
    assert.strictEqual(retry.status, 200)
    assert.include(await retry.text(), '"text":"ok"')
  })

  it("HANG:first hangs the first request only", async () => {
    const server = await serve()
    const abort = new AbortController()
    const hung = await post(server, "HANG:first\nREPLY:after", 0, abort.signal)
    assert.strictEqual(hung.status, 200)
    abort.abort()
    const retry = await post(server, "HANG:first\nREPLY:after", 1)
    assert.include(await retry.text(), '"text":"after"')
    assert.deepStrictEqual(
      server.requests.map((r) => r.action),
      ["hang", "message"],
    )
  })
})
