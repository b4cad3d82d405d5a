import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ensureChromium, launchChromium } from "../support/chromium.js"
import { waitFor } from "../support/cli.js"
import { fleetWorld } from "../support/fleet.js"
import { connectLive, type LiveMessage } from "../support/liveClient.js"
import { send } from "../support/serveInProcess.js"
import { startServe } from "../support/serveProcess.js"

// `serve --cluster` as a process on a real fleet: PostgreSQL, one runner driving the real codex
// against the scripted model server, the dashboard served from a client machine (its own store
// and CODEX_HOME); everything over HTTP and the live WebSocket with the token, then the page in
// Chromium (when there is one; under CI=true a missing one fails).
const world = fleetWorld()
const executable = ensureChromium()

type Row = { readonly id: string; readonly state: string; readonly host?: string }
const upserts = (m: LiveMessage): ReadonlyArray<Row & { last_result?: string | null }> =>
  m.topic !== "board"
    ? []
    : ((m.data.snapshot ?? m.data.upsert) as ReadonlyArray<Row & { last_result?: string | null }>)

describe("serve --cluster", () => {
  it("serves the fleet's tasks with their host, starts and feeds one on a runner, and pushes its changes live", async (ctx) => {
    const fleet = await world.setup()
    if (fleet === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const alpha = await fleet.startRunner("alpha")
    const client = { ...fleet.client, env: { ...fleet.client.env, CODEX_TASKS_CLUSTER: fleet.url } }
    const serve = await startServe(client)
    try {
      await waitFor(
        "serve's note on stderr",
        () =>
          serve.output().stderr.includes("codex-tasks: serving the fleet on 127.0.0.1:") ||
          undefined,
      )
      expect(serve.output().stderr).toMatch(
        /serving the fleet on 127\.0\.0\.1:\d+; paths on the hosts refused, prompts and diffs only for tasks started here; Ctrl-C stops\./,
      )
      expect(serve.output().stderr).not.toContain(fleet.password)
      const headers = { host: `127.0.0.1:${serve.port}`, authorization: `Bearer ${serve.token}` }
      const api = async (method: string, path: string, body?: unknown) => {
        const r = await send(
          serve.port,
          method,
          path,
          body === undefined ? headers : { ...headers, "content-type": "application/json" },
          body === undefined ? undefined : JSON.stringify(body),
        )
        return { status: r.status, body: r.body }
      }
      // The fleet's dashboard has the local one's guard: no token, a foreign Host or Origin: refused.
      const host = `127.0.0.1:${serve.port}`
      expect((await send(serve.port, "GET", "/api/tasks", { host })).status).toBe(401)
      expect(
        (await send(serve.port, "GET", "/api/tasks", { ...headers, host: "evil.example" })).status,
      ).toBe(403)
      const foreign = await send(
        serve.port,
        "POST",
        "/api/tasks",
        { ...headers, origin: "http://evil.example", "content-type": "application/json" },
        JSON.stringify({ prompt: "REPLY:never", on: "alpha", skipGitRepoCheck: true }),
      )
      expect(foreign.status).toBe(403)
      const live = await connectLive(serve.port, headers)
      try {
        const hello = await live.until((m) => m.topic === "hello")
        expect(hello.data.fleet).toBe(true)
        live.send({ op: "subscribe", topic: "board" })
        await live.until((m) => m.topic === "board" && "snapshot" in m.data)

        // Started through the API on host alpha: the runner runs its first turn.
        const started = await api("POST", "/api/tasks", {
          prompt: "REPLY:first answer",
          on: "alpha",
          skipGitRepoCheck: true,
        })
        expect(started.status, started.body).toBe(201)
        const { id, host } = JSON.parse(started.body) as { id: string; host: string }
        expect(host).toBe("alpha")
        // The live board shows it, with its host, once its first turn ended.
        await live.until(
          (m) => upserts(m).some((r) => r.id === id && r.state === "STOPPED" && r.host === "alpha"),
          60_000,
        )
        const list = await api("GET", "/api/tasks")
        expect(list.status).toBe(200)
        const rows = JSON.parse(list.body) as ReadonlyArray<Row & { last_result: string }>
        expect(rows.find((r) => r.id === id)).toMatchObject({
          host: "alpha",
          state: "STOPPED",
          last_result: "first answer",
        })

        // A prompt sent through the API runs a turn on the runner (the model server gets it),
        // and the live board pushes the task's change.
        live.send({ op: "subscribe", topic: `log:${id}` })
        const sent = await api("POST", `/api/tasks/${id}/prompts`, {
          prompt: "REPLY:second answer",
        })
        expect(sent.status, sent.body).toBe(201)
        expect(JSON.parse(sent.body)).toMatchObject({ id, status: "started" })
        await waitFor(
          "the model server to receive the second prompt",
          () =>
            fleet.server.requests.some((r) => r.lastUserText?.includes("second answer")) ||
            undefined,
          60_000,
        )
        await live.until(
          (m) => upserts(m).some((r) => r.id === id && r.last_result === "second answer"),
          60_000,
        )
        // The transcript followed live from the host.
        await live.until(
          (m) => m.topic === `log:${id}` && String(m.data.text).includes("second answer"),
          60_000,
        )
        // The raw log, downloaded from the host byte for byte; apply refused on the fleet.
        const log = await api("GET", `/api/tasks/${id}/log`)
        expect(log.body).toBe(readFileSync(join(alpha.sandbox.storeRoot, id, "task.log"), "utf8"))
        const apply = await api("POST", `/api/tasks/${id}/apply`, {})
        expect(apply.status).toBe(400)
        expect(apply.body).toContain("Apply is not available on a fleet's dashboard")

        // The page in Chromium: a Host column, the task's transcript from its host, no Apply;
        // the runner gone, the row reads "host unreachable since …" (pushed by the board).
        if (executable === undefined) return
        const browser = await launchChromium(executable)
        try {
          const page = await browser.newPage()
          // Generous: two loaded cores run codex, a runner, PostgreSQL and the browser.
          page.setDefaultTimeout(60_000)
          await page.goto(serve.url)
          const table = page.getByRole("table", { name: "Tasks" })
          await table.getByRole("columnheader", { name: "Host" }).waitFor()
          const row = table.getByRole("row").filter({ hasText: id.slice(0, 8) })
          await row.filter({ hasText: "alpha" }).waitFor()
          await page.evaluate(`location.hash = ${JSON.stringify(`#task/${id}`)}`)
          await page
            .getByRole("region", { name: "Transcript" })
            .filter({ hasText: "second answer" })
            .waitFor()
          // The status comes from the host (its own request): waited for, not read at once.
          await page.locator("#task-meta").filter({ hasText: "on alpha" }).waitFor()
          // The Apply button itself is hidden on a fleet (not only the diff box around it).
          expect(await page.locator("#apply").getAttribute("hidden")).not.toBeNull()
          await alpha.kill9()
          await page.evaluate(`location.hash = ""`)
          await row.filter({ hasText: "host unreachable since" }).waitFor({ timeout: 60_000 })
          const lost = JSON.parse((await api("GET", `/api/tasks/${id}`)).body) as {
            host_lost_since?: string
          }
          expect(lost.host_lost_since).toMatch(/^\d{4}-\d\d-\d\dT/)
        } finally {
          await browser.close()
        }
      } finally {
        live.close()
      }
    } finally {
      expect(await serve.stop()).toEqual({ code: 0, signal: null })
    }
  }, 150_000)
})
