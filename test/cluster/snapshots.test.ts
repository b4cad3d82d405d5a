import { SqlClient } from "@effect/sql"
import { Effect, type Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fleetLayer, listFleet, resolveTask } from "../../src/cluster/client.js"
import { pgLayer } from "../../src/cluster/engine.js"
import { ensureSchema, heartbeat, saveSnapshots } from "../../src/cluster/registry.js"
import { startPostgres, type TestPostgres } from "../support/postgres.js"

// The task snapshots runners keep in Postgres, and `ls --cluster` read from them (one query, no
// runner asked), against a real PostgreSQL.

let postgres: TestPostgres | undefined
beforeAll(async () => {
  postgres = await startPostgres()
}, 180_000)
afterAll(async () => {
  await postgres?.stop()
})

const task = (id: string, state: string, createdAt: string, extra: object = {}) => ({
  id,
  title: `task ${id.slice(-1)}`,
  state,
  created_at: createdAt,
  updated_at: createdAt,
  last_prompt: "p",
  last_result: null,
  working_dir: "/tmp",
  pid: null,
  initial_prompt: "p",
  outcome: null,
  queued_prompts: 0,
  dropped_prompts: 0,
  turns: 1,
  usage: null,
  archived: state === "ARCHIVED",
  path: `/store/${id}`,
  worker_stderr: null,
  waiting: null,
  ...extra,
})

const ID = (n: number) => `019a0000-0000-7000-8000-00000000000${n}`

describe("fleet task snapshots", () => {
  it("ls shows each host's latest snapshot, newest task first; a lost host's tasks are marked; an older snapshot never replaces a newer one", async (ctx) => {
    if (postgres === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const url = postgres.url
    const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      Effect.runPromise(Effect.scoped(Effect.provide(effect, pgLayer(url))))
    await run(ensureSchema)
    const now = new Date()
    const earlier = new Date(now.getTime() - 5_000)
    await run(
      Effect.gen(function* () {
        yield* heartbeat("alpha", "127.0.0.1:1", 1)
        yield* heartbeat("beta", "127.0.0.1:2", 0)
        // Beta's runner went away a minute ago.
        const sql = yield* SqlClient.SqlClient
        yield* sql`UPDATE codex_tasks_hosts SET heartbeat_at = now() - interval '1 minute' WHERE host = 'beta'`
        // Tasks no client placed (made by local commands on the host) are placed by their snapshot.
        yield* saveSnapshots(
          "alpha",
          [
            task(ID(1), "RUNNING", "2026-01-01T00:00:01Z"),
            task(ID(3), "ARCHIVED", "2026-01-01T00:00:03Z"),
          ],
          now,
        )
        // A heartbeat's list taken before the message's answer saved its snapshot: not kept.
        yield* saveSnapshots("alpha", [task(ID(1), "STOPPED", "2026-01-01T00:00:01Z")], earlier)
        yield* saveSnapshots("beta", [task(ID(2), "RUNNING", "2026-01-01T00:00:02Z")], now)
      }),
    )
    const fleet = <A, E>(
      effect: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof fleetLayer>>>,
    ) => Effect.runPromise(Effect.scoped(Effect.provide(effect, fleetLayer(url))))
    const shown = await fleet(listFleet(false))
    expect(shown.map((t) => [t.id, t.state, t.host])).toEqual([
      [ID(2), "RUNNING", "beta"],
      [ID(1), "RUNNING", "alpha"],
    ])
    expect(shown[0]?.host_lost_since).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(shown[1]?.host_lost_since).toBeUndefined()
    expect((await fleet(listFleet(true))).map((t) => t.id)).toEqual([ID(3), ID(2), ID(1)])
    expect(await fleet(resolveTask(ID(3)))).toEqual({ id: ID(3), host: "alpha" })
  }, 120_000)
})
