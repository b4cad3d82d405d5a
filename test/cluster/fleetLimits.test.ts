import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pgLayer } from "../../src/cluster/engine.js"
import { ensureSchema } from "../../src/cluster/registry.js"
import { gateRound } from "../../src/cluster/usageGate.js"
import {
  readUsageLimit,
  readUsageLimitRecord,
  recordUsageLimit,
} from "../../src/store/usageLimit.js"
import { type FleetSlotWait, fleetSlotsFromEnv, holdFleetSlot } from "../../src/worker/fleetSlot.js"
import { startPostgres, type TestPostgres } from "../support/postgres.js"

// The fleet's limits against a real PostgreSQL: run slots held as advisory locks by workers, and
// the usage-limit gate that carries one host's reset to another host's store.

let db: TestPostgres | undefined
beforeAll(async () => {
  db = await startPostgres()
}, 180_000)
afterAll(async () => {
  await db?.stop()
})

const heldSlots = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows } = await client.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted",
  )
  await client.end()
  return Number(rows[0]?.n ?? -1)
}

const quiet = () => Effect.void

describe("fleet run slots", () => {
  it("a second holder waits (told how many are held) until the first lets go; a stopped wait holds nothing", async (ctx) => {
    if (db === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const url = db.url
    const config = { url, limit: 1 }
    const first = await Effect.runPromise(Scope.make())
    const slot = await Effect.runPromise(
      Scope.extend(
        holdFleetSlot(config, () => Effect.void, quiet),
        first,
      ),
    )
    expect(slot).toBe(0)
    expect(await heldSlots(url)).toBe(1)

    const waits: Array<FleetSlotWait> = []
    const told = Effect.runSync(Deferred.make<void>())
    const got = Effect.runSync(Deferred.make<number>())
    const onWait = (w: FleetSlotWait) =>
      Effect.zipRight(
        Effect.sync(() => waits.push(w)),
        Deferred.succeed(told, void 0),
      )
    const second = Effect.runFork(
      Effect.scoped(
        Effect.flatMap(holdFleetSlot(config, onWait, quiet), (n) =>
          Effect.zipRight(Deferred.succeed(got, n), Effect.never),
        ),
      ),
    )
    await Effect.runPromise(Deferred.await(told))
    expect(waits).toEqual([{ held: 1, limit: 1 }])
    // A third waiter is stopped while it waits: it leaves nothing behind.
    const third = Effect.runFork(Effect.scoped(holdFleetSlot(config, () => Effect.void, quiet)))
    await new Promise((r) => setTimeout(r, 300))
    await Effect.runPromise(Fiber.interrupt(third))

    expect(Effect.runSync(Deferred.isDone(got))).toBe(false)
    await Effect.runPromise(Scope.close(first, Exit.void))
    // The second takes the slot the first let go (the wait retries every second).
    expect(await Effect.runPromise(Deferred.await(got))).toBe(0)
    expect(await heldSlots(url)).toBe(1)
    await Effect.runPromise(Fiber.interrupt(second))
    for (let i = 0; i < 50 && (await heldSlots(url)) !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(await heldSlots(url)).toBe(0)
  }, 60_000)

  it("a held slot whose connection breaks is gone, and the run's log is told so once", async (ctx) => {
    if (db === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const url = db.url
    const troubles: Array<string> = []
    const scope = await Effect.runPromise(Scope.make())
    await Effect.runPromise(
      Scope.extend(
        holdFleetSlot({ url, limit: 1 }, quiet, (m) => Effect.sync(() => troubles.push(m))),
        scope,
      ),
    )
    expect(await heldSlots(url)).toBe(1)
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'codex-tasks fleet slot'",
    )
    await admin.end()
    for (let i = 0; i < 100 && troubles.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(troubles).toEqual([
      "the connection to the fleet's PostgreSQL broke: this run no longer holds a fleet run slot",
    ])
    expect(await heldSlots(url)).toBe(0)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(troubles).toHaveLength(1)
  }, 30_000)

  it("an unreachable database: the wait goes on, told once, without the password", async (ctx) => {
    if (db === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const url = "postgres://codex:s3cret-pass@127.0.0.1:9/none"
    const troubles: Array<string> = []
    const fiber = Effect.runFork(
      Effect.scoped(
        holdFleetSlot({ url, limit: 2 }, quiet, (m) => Effect.sync(() => troubles.push(m))),
      ),
    )
    await new Promise((r) => setTimeout(r, 3_500))
    expect(fiber.unsafePoll()).toBe(null)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(troubles).toHaveLength(1)
    expect(troubles[0]).toMatch(
      /^the fleet's PostgreSQL \(postgres:\/\/\*\*\*@127\.0\.0\.1:9\/none\)/,
    )
    expect(troubles[0]).not.toContain("s3cret-pass")
  }, 30_000)

  it("the worker takes the fleet's URL out of its environment, limit or not", () => {
    const env: NodeJS.ProcessEnv = { CODEX_TASKS_CLUSTER: "postgres://u:p@h/db", OTHER: "1" }
    fleetSlotsFromEnv(undefined, env)
    expect(env).toEqual({ OTHER: "1" })
  })
})

describe("the usage-limit gate", () => {
  const dirs: Array<string> = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  const storeDir = () => {
    const d = mkdtempSync(join(tmpdir(), "ct-gate-"))
    dirs.push(d)
    return d
  }

  it("a reset one host's store learns reaches another host's store; only a later one replaces it", async (ctx) => {
    if (db === undefined) return ctx.skip("PostgreSQL is not installed (and we are not root)")
    const admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    await admin.query("CREATE DATABASE gate_test")
    await admin.end()
    const url = db.url.replace(/\/postgres$/, "/gate_test")
    const [rootA, rootB, rootC] = [storeDir(), storeDir(), storeDir()]
    const hostA = { codexHome: "/home/a/.codex", account: "acct1" }
    const hostB = { codexHome: "/home/b/.codex", account: "acct1" }
    const otherAccount = { codexHome: "/home/c/.codex", account: "acct2" }
    const now = Date.now()
    const reset = now + 10 * 60_000
    const program = Effect.gen(function* () {
      yield* ensureSchema
      yield* recordUsageLimit(rootA, hostA, reset, now, "task-a")
      yield* gateRound("a", rootA, hostA)
      yield* gateRound("b", rootB, hostB)
      yield* gateRound("c", rootC, otherAccount)
      const onB = yield* readUsageLimit(rootB, hostB, Date.now())
      const onC = yield* readUsageLimitRecord(rootC)
      // An earlier reset learned on B later does not replace the fleet's later one.
      yield* recordUsageLimit(rootB, { ...hostB, codexHome: "/elsewhere" }, now + 60_000, now, "b")
      yield* gateRound("b", rootB, hostB)
      yield* gateRound("a", rootA, hostA)
      const stillOnA = yield* readUsageLimit(rootA, hostA, Date.now())
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ host: string; task_id: string }>`SELECT host, task_id
        FROM codex_tasks_usage_limits WHERE account = 'acct1'`
      return { onB, onC, stillOnA, rows }
    })
    const got = await Effect.runPromise(
      Effect.provide(program, Layer.orDie(pgLayer(url))) as Effect.Effect<{
        onB: number | undefined
        onC: unknown
        stillOnA: number | undefined
        rows: ReadonlyArray<{ host: string; task_id: string }>
      }>,
    )
    expect(got.onB).toBe(reset)
    expect(got.onC).toBeUndefined()
    expect(got.stillOnA).toBe(reset)
    expect(got.rows).toEqual([{ host: "a", task_id: "task-a" }])
  }, 60_000)
})
