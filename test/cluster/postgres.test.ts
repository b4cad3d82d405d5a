import { existsSync } from "node:fs"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { startPostgres } from "../support/postgres.js"

// The test database every cluster test stands on (test/support/postgres.ts).
describe("the test PostgreSQL", () => {
  it("starts on loopback with a password, and stopping it ends the server and removes its files", async (ctx) => {
    const db = await startPostgres()
    if (db === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    let pid = 0
    try {
      expect(db.url).toMatch(/^postgres:\/\/codex:[^@]+@127\.0\.0\.1:\d+\/postgres$/)
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      pid =
        (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid ?? 0
      await client.end()
      const wrong = new pg.Client({ connectionString: db.url.replace(db.password, "wrong") })
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/)
      await wrong.end().catch(() => {})
    } finally {
      await db.stop()
    }
    expect(pid).toBeGreaterThan(0)
    expect(existsSync(`/proc/${pid}`)).toBe(false)
  }, 120_000)
})
