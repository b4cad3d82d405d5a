import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DONE, writeTask } from "../support/mcpInProcess.js"
import { send, serveInProcess, TOKEN, upgradeHeaders } from "../support/serveInProcess.js"

// Every line of the "Security" list, against the real server over real HTTP.

let server: Awaited<ReturnType<typeof serveInProcess>>
let host: string
let bearer: Record<string, string>
/** A task recorded with no options the gate refuses (the fixture's ones have some). */
const PLAIN = "0199d7c5-0000-7000-8000-00000000aaaa"

beforeAll(async () => {
  server = await serveInProcess({ allowedHosts: ["tasks.example.test"] })
  host = `127.0.0.1:${server.port}`
  bearer = { host, authorization: `Bearer ${TOKEN}` }
  writeTask(server.storeRoot, PLAIN, {})
})
afterAll(async () => {
  await server.close()
})

describe("serve refuses a Host it does not answer to (DNS rebinding)", () => {
  it("refuses another name with a valid token, before routing, with no task data", async () => {
    for (const path of ["/api/tasks", "/", "/nowhere"]) {
      const r = await send(server.port, "GET", path, {
        ...bearer,
        host: `evil.example:${server.port}`,
      })
      expect(r.status).toBe(403)
      expect(r.body).not.toContain(DONE)
      expect(r.body).toContain("evil.example")
    }
  })

  it("refuses the WebSocket upgrade from another Host", async () => {
    const r = await send(server.port, "GET", "/live", {
      ...bearer,
      ...upgradeHeaders,
      host: `evil.example:${server.port}`,
    })
    expect(r.status).toBe(403)
  })

  it("refuses its own address on another port and a missing Host", async () => {
    const other = await send(server.port, "GET", "/api/tasks", {
      ...bearer,
      host: `127.0.0.1:${server.port + 1}`,
    })
    expect(other.status).toBe(403)
    const { host: _, ...noHost } = bearer
    // Node itself answers 400 to an HTTP/1.1 request without Host.
    expect([400, 403]).toContain((await send(server.port, "GET", "/api/tasks", noHost)).status)
  })

  it("answers 127.0.0.1, localhost, [::1] with its port, and an --allowed-host", async () => {
    for (const name of ["127.0.0.1", "localhost", "[::1]", "tasks.example.test", "LOCALHOST"]) {
      const r = await send(server.port, "GET", "/api/tasks", {
        ...bearer,
        host: `${name}:${server.port}`,
      })
      expect(`${name}: ${r.status}`).toBe(`${name}: 200`)
    }
  })
})

describe("serve needs the token for the API and the live channel", () => {
  it("answers 401 and no data without a token or with a wrong one", async () => {
    for (const headers of [{ host }, { host, authorization: "Bearer wrong" }]) {
      const r = await send(server.port, "GET", "/api/tasks", headers)
      expect(r.status).toBe(401)
      expect(r.body).not.toContain(DONE)
      const t = await send(server.port, "GET", `/api/tasks/${DONE}`, headers)
      expect(t.status).toBe(401)
      const log = await send(server.port, "GET", `/api/tasks/${DONE}/log`, headers)
      expect(log.status).toBe(401)
    }
  })

  it("refuses the WebSocket upgrade without the token and accepts it with the cookie", async () => {
    const none = await send(server.port, "GET", "/live", { host, ...upgradeHeaders })
    expect(none.status).toBe(401)
    const cookie = `codex_tasks_${server.port}=${TOKEN}`
    const ok = await send(server.port, "GET", "/live", { host, cookie, ...upgradeHeaders })
    expect(ok.status).toBe(101)
  })

  it("trades the token for an HttpOnly SameSite=Strict cookie, and refuses a wrong one", async () => {
    const wrong = await send(
      server.port,
      "POST",
      "/session",
      { host, "content-type": "application/json" },
      JSON.stringify({ token: "nope" }),
    )
    expect(wrong.status).toBe(401)
    expect(wrong.headers["set-cookie"]).toBeUndefined()
    const r = await send(
      server.port,
      "POST",
      "/session",
      { host, "content-type": "application/json", origin: `http://${host}` },
      JSON.stringify({ token: TOKEN }),
    )
    expect(r.status).toBe(200)
    const cookie = String(r.headers["set-cookie"])
    expect(cookie).toContain("HttpOnly")
    expect(cookie).toContain("SameSite=Strict")
    const pair = cookie.split(";")[0] ?? ""
    const tasks = await send(server.port, "GET", "/api/tasks", { host, cookie: pair })
    expect(tasks.status).toBe(200)
    expect(tasks.body).toContain(DONE)
  })

  it("serves the page itself without the token (it holds no data)", async () => {
    const page = await send(server.port, "GET", "/", { host })
    expect(page.status).toBe(200)
    expect(page.body).toContain('aria-label="Tasks"')
    expect(page.body).not.toContain(DONE)
  })
})

describe("serve refuses writes and the upgrade from a foreign Origin, even with the token", () => {
  const post = (origin: string) =>
    send(
      server.port,
      "POST",
      `/api/tasks/${PLAIN}/prompts`,
      { ...bearer, origin, "content-type": "application/json" },
      JSON.stringify({ prompt: "hello" }),
    )

  it("refuses a foreign Origin and Origin: null with 403, doing nothing", async () => {
    for (const origin of ["http://evil.example", "null", `http://127.0.0.1:${server.port + 1}`]) {
      const r = await post(origin)
      expect(`${origin}: ${r.status}`).toBe(`${origin}: 403`)
    }
    expect(server.calls.sends).toEqual([])
  })

  it("refuses the upgrade with a foreign Origin or Origin: null", async () => {
    for (const origin of ["http://evil.example", "null"]) {
      const r = await send(server.port, "GET", "/live", { ...bearer, ...upgradeHeaders, origin })
      expect(`${origin}: ${r.status}`).toBe(`${origin}: 403`)
    }
  })

  it("lets the page's own Origin (and a script without one) write", async () => {
    expect((await post(`http://${host}`)).status).toBe(201)
    const { status } = await send(
      server.port,
      "POST",
      `/api/tasks/${PLAIN}/prompts`,
      { ...bearer, "content-type": "application/json" },
      JSON.stringify({ prompt: "again" }),
    )
    expect(status).toBe(201)
    expect(server.calls.sends.map((s) => s.prompt)).toEqual(["hello", "again"])
  })
})

describe("serve's response headers", () => {
  it("sends a CSP without inline script, X-Frame-Options DENY, no referrer; no-store on the API", async () => {
    const page = await send(server.port, "GET", "/", { host })
    const csp = String(page.headers["content-security-policy"])
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain("unsafe-inline")
    expect(page.headers["x-frame-options"]).toBe("DENY")
    expect(page.headers["referrer-policy"]).toBe("no-referrer")
    for (const path of ["/api/tasks", `/api/tasks/${DONE}`, "/api/tasks/nope"]) {
      const r = await send(server.port, "GET", path, bearer)
      expect(`${path}: ${r.headers["cache-control"]}`).toBe(`${path}: no-store`)
      expect(r.headers["x-frame-options"]).toBe("DENY")
    }
    const refused = await send(server.port, "GET", "/api/tasks", { host })
    expect(refused.headers["content-security-policy"]).toBe(csp)
  })

  it("has no inline script in the page", async () => {
    const page = await send(server.port, "GET", "/", { host })
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(page.body).not.toMatch(/\son[a-z]+=/)
  })
})
