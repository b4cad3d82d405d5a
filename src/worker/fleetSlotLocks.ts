/**
 * Fleet-wide run slots, the worker's side: slot `i` of a limit N is the PostgreSQL session-level
 * advisory lock (`FLEET_SLOT_SPACE`, i), i < N, in the fleet's database. A worker takes one on
 * its own connection and keeps that connection for the codex invocation: PostgreSQL frees the
 * lock when the connection ends, whether the worker releases it, dies, or its host vanishes (the
 * session's TCP keepalives notice a silent host within about half a minute).
 *
 * Built into its own bundle (dist/bin/fleet-slots.cjs, plain `pg`, no Effect): the worker loads
 * it only for a task that carries a fleet limit, so local tasks' workers start as fast as before.
 */
import pg from "pg"

/** The first key of every fleet slot's advisory lock (the second is the slot's number). */
export const FLEET_SLOT_SPACE = 0x63745331

// The server drops a silent client after idle + interval × count seconds (TCP connections only;
// over a Unix socket PostgreSQL ignores these). An idle session must not be timed out either:
// it holds the slot while codex runs.
const SESSION_SETTINGS = [
  "SET tcp_keepalives_idle = 10",
  "SET tcp_keepalives_interval = 5",
  "SET tcp_keepalives_count = 3",
  "SET idle_session_timeout = 0",
]

/** One connection of a worker to the fleet's database, for taking and holding a slot. */
export interface FleetSlotConnection {
  /** Takes a free slot below `limit`: its number, or undefined when all `limit` are held. */
  readonly tryTake: (limit: number) => Promise<number | undefined>
  /** How many of the slots below `limit` are held (by anyone), for the waiting note. */
  readonly held: (limit: number) => Promise<number>
  /** Whether the connection broke (the slot it held is gone). */
  readonly lost: () => boolean
  /** Ends the connection: a slot held is freed. */
  readonly close: () => Promise<void>
}

/** Connects to the fleet's database at `url` (the URL is never part of what this throws). */
export const connectFleetSlots = async (url: string): Promise<FleetSlotConnection> => {
  const client = new pg.Client({
    connectionString: url,
    application_name: "codex-tasks fleet slot",
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  })
  let broken = false
  // Without a listener a dropped connection would end the worker (and its task) with it.
  client.on("error", () => {
    broken = true
  })
  await client.connect()
  try {
    for (const setting of SESSION_SETTINGS) await client.query(setting)
  } catch (e) {
    await client.end().catch(() => undefined)
    throw e
  }
  return {
    tryTake: async (limit) => {
      // From a random slot on: waiters do not all try slot 0 first.
      const start = Math.floor(Math.random() * limit)
      for (let k = 0; k < limit; k++) {
        const slot = (start + k) % limit
        const { rows } = await client.query<{ taken: boolean }>(
          "SELECT pg_try_advisory_lock($1::int, $2::int) AS taken",
          [FLEET_SLOT_SPACE, slot],
        )
        if (rows[0]?.taken === true) return slot
      }
      return undefined
    },
    held: async (limit) => {
      const { rows } = await client.query<{ held: string }>(
        `SELECT count(*) AS held FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 2
            AND classid = $1::int::oid AND objid < $2::int::oid
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [FLEET_SLOT_SPACE, limit],
      )
      return Number(rows[0]?.held ?? 0)
    },
    lost: () => broken,
    close: () => client.end().catch(() => undefined),
  }
}
