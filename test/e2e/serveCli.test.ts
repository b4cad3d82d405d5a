import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { runCli, waitFor } from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { send, upgradeHeaders } from "../support/serveInProcess.js"
import { startServe } from "../support/serveProcess.js"

// The `serve` command as a process: its URL line, token file, refusals of bad flags, a taken
// port, the security lines against the real process, and a clean exit on SIGINT.

const world = e2eWorld()

const setup = async () => {
  const { sandbox } = await world.setup()
  return sandbox
}

describe("codex-tasks serve (the process)", () => {
  it("keeps its token in a private file across restarts; --rotate-token replaces it; SIGINT exits 0", async () => {
    const sandbox = await setup()
    const first = await startServe(sandbox)
    const file = join(sandbox.storeRoot, "serve.token")
    assert.strictEqual(statSync(file).mode & 0o777, 0o600)
    assert.strictEqual(readFileSync(file, "utf8").trim(), first.token)
    assert.isAtLeast(Buffer.from(first.token, "base64url").length, 16, "at least 128 bits")
    assert.deepStrictEqual(await first.stop("SIGINT"), { code: 0, signal: null })
    assert.strictEqual(first.output().stdout, `${first.url}\n`)
    const again = await startServe(sandbox)
    assert.strictEqual(again.token, first.token)
    await again.stop()
    const rotated = await startServe(sandbox, ["--rotate-token"])
    assert.notStrictEqual(rotated.token, first.token)
    const old = await send(rotated.port, "GET", "/api/tasks", {
      host: `127.0.0.1:${rotated.port}`,
      authorization: `Bearer ${first.token}`,
    })
    assert.strictEqual(old.status, 401)
    await rotated.stop()
  })

  it("--open runs the browser $BROWSER names with the URL, as one argument and no shell", async () => {
    const sandbox = await setup()
    const recorder = join(sandbox.cwd, "browser;echo$HOME")
    writeFileSync(recorder, '#!/bin/sh\nprintf \'%s\\n\' "$#" "$@" > "$0.args"\n', { mode: 0o755 })
    const serve = await startServe({ ...sandbox, env: { ...sandbox.env, BROWSER: recorder } }, [
      "--open",
    ])
    const args = await waitFor("the browser to be run", () =>
      existsSync(`${recorder}.args`) ? readFileSync(`${recorder}.args`, "utf8") : undefined,
    )
    assert.strictEqual(args, `1\n${serve.url}\n`)
    assert.deepStrictEqual(await serve.stop(), { code: 0, signal: null })
  })

  it("refuses a taken port, a non-loopback host without --allow-remote, and a bad port, with exit 2", async () => {
    const sandbox = await setup()
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r))
    const address = blocker.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    try {
      const taken = await runCli(sandbox, ["serve", "--port", String(port)])
      assert.strictEqual(taken.code, 2, taken.stderr)
      assert.include(taken.stderr, `Port ${port} on 127.0.0.1 is taken`)
      assert.strictEqual(taken.stdout, "")
    } finally {
      blocker.close()
    }
    const remote = await runCli(sandbox, ["serve", "--port", "0", "--host", "0.0.0.0"])
    assert.strictEqual(remote.code, 2)
    assert.include(remote.stderr, "--allow-remote")
    const bad = await runCli(sandbox, ["serve", "--port", "70000"])
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, "--port must be 0 to 65535")
  })

  it("answers only its own Host, with the token, and writes only from its own Origin", async () => {
    const sandbox = await setup()
    const serve = await startServe(sandbox)
    const host = `127.0.0.1:${serve.port}`
    const bearer = { host, authorization: `Bearer ${serve.token}` }
    const rebound = { ...bearer, host: `evil.example:${serve.port}` }
    assert.strictEqual((await send(serve.port, "GET", "/api/tasks", rebound)).status, 403)
    const ws = await send(serve.port, "GET", "/live", { ...rebound, ...upgradeHeaders })
    assert.strictEqual(ws.status, 403)
    assert.strictEqual((await send(serve.port, "GET", "/api/tasks", { host })).status, 401)
    assert.strictEqual((await send(serve.port, "GET", "/api/tasks", bearer)).status, 200)
    for (const origin of ["http://evil.example", "null"]) {
      const write = await send(
        serve.port,
        "POST",
        "/api/tasks",
        { ...bearer, origin, "content-type": "application/json" },
        JSON.stringify({ prompt: "REPLY:should never run" }),
      )
      assert.strictEqual(write.status, 403, origin)
      const upgrade = await send(serve.port, "GET", "/live", {
        ...bearer,
        ...upgradeHeaders,
        origin,
      })
      assert.strictEqual(upgrade.status, 403, origin)
    }
    const listed = await send(serve.port, "GET", "/api/tasks", bearer)
    assert.strictEqual(listed.body, "[]", "nothing was started")
    await serve.stop()
  })

  it("starts a task from the API as the CLI would, and lists it as ls --json --all does", async () => {
    const sandbox = await setup()
    const serve = await startServe(sandbox)
    const headers = {
      host: `127.0.0.1:${serve.port}`,
      authorization: `Bearer ${serve.token}`,
      "content-type": "application/json",
    }
    const started = await send(
      serve.port,
      "POST",
      "/api/tasks",
      headers,
      JSON.stringify({ prompt: "REPLY:from the API", title: "api task", skipGitRepoCheck: true }),
    )
    assert.strictEqual(started.status, 201, started.body)
    const { id } = JSON.parse(started.body) as { id: string }
    const ls = await runCli(sandbox, ["ls", "--json", "--all"])
    const api = await send(serve.port, "GET", "/api/tasks", headers)
    const fromCli = JSON.parse(ls.stdout) as Array<{ id: string; title: string }>
    const fromApi = JSON.parse(api.body) as Array<{ id: string; title: string }>
    assert.deepStrictEqual(
      fromApi.map((t) => [t.id, t.title]),
      fromCli.map((t) => [t.id, t.title]),
    )
    assert.strictEqual(fromApi[0]?.id, id)
    await serve.stop()
  })
})
