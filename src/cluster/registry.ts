/**
 * The fleet's own tables in Postgres (next to the engine's `cluster_*` tables): which runner
 * lives on which host (a heartbeat with its running-task count) and which host holds which task.
 * Everything else about a task stays in its host's local store.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

// Before the first runner created the tables, the fleet is simply empty.
const UNDEFINED_TABLE = "42P01"
const orEmptyBeforeSchema = <A, R>(
  query: Effect.Effect<ReadonlyArray<A>, SqlError, R>,
): Effect.Effect<ReadonlyArray<A>, SqlError, R> =>
  Effect.catchIf(
    query,
    (e) => (e.cause as { code?: unknown } | undefined)?.code === UNDEFINED_TABLE,
    () => Effect.succeed([]),
  )

/** Version of the fleet tables below; `doctor --cluster` compares it. */
export const SCHEMA_VERSION = 1

/** A runner is live while its heartbeat is younger than this. */
export const LIVE_WITHIN_MS = 15_000

/** A runner as its heartbeat row says. */
export interface HostRow {
  readonly host: string
  readonly address: string
  readonly running: number
  readonly heartbeatAt: Date
  readonly live: boolean
}

// Serialises the CREATEs of runners starting together (CREATE ... IF NOT EXISTS can still race).
const SCHEMA_LOCK = 0x636f6465

/** The fleet's tables and their schema version, created when missing. */
export const ensureSchema = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`
      yield* sql`CREATE TABLE IF NOT EXISTS codex_tasks_meta (key text PRIMARY KEY, value text NOT NULL)`
      yield* sql`CREATE TABLE IF NOT EXISTS codex_tasks_hosts (
        host text PRIMARY KEY,
        address text NOT NULL,
        running integer NOT NULL DEFAULT 0,
        heartbeat_at timestamptz NOT NULL DEFAULT now())`
      yield* sql`CREATE TABLE IF NOT EXISTS codex_tasks_placements (
        task_id text PRIMARY KEY,
        host text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        snapshot jsonb,
        snapshot_at timestamptz)`
      // The fleet's usage-limit gate (cluster/usageGate.ts): the latest reset per account.
      yield* sql`CREATE TABLE IF NOT EXISTS codex_tasks_usage_limits (
        account text PRIMARY KEY,
        until timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        host text NOT NULL,
        task_id text)`
      yield* sql`INSERT INTO codex_tasks_meta (key, value) VALUES ('schema_version', ${String(SCHEMA_VERSION)})
        ON CONFLICT (key) DO NOTHING`
    }),
  )
})

/** The runner of `host` is alive at `address` with `running` tasks running. */
export const heartbeat = (host: string, address: string, running: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO codex_tasks_hosts (host, address, running, heartbeat_at)
      VALUES (${host}, ${address}, ${running}, now())
      ON CONFLICT (host) DO UPDATE SET address = EXCLUDED.address, running = EXCLUDED.running,
        heartbeat_at = EXCLUDED.heartbeat_at`,
  )

/** Every host that ever ran a runner, with its last heartbeat and whether it is live. */
export const hosts = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* orEmptyBeforeSchema(sql<{
    host: string
    address: string
    running: number
    heartbeat_at: Date
    live: boolean
  }>`SELECT host, address, running, heartbeat_at,
      heartbeat_at > now() - make_interval(secs => ${LIVE_WITHIN_MS / 1000}) AS live
    FROM codex_tasks_hosts ORDER BY host`)
  return rows.map(
    (r): HostRow => ({
      host: r.host,
      address: r.address,
      running: r.running,
      heartbeatAt: new Date(r.heartbeat_at),
      live: r.live,
    }),
  )
})

/** Records that task `id` lives on `host`. */
export const place = (id: string, host: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO codex_tasks_placements (task_id, host) VALUES (${id}, ${host})
      ON CONFLICT (task_id) DO UPDATE SET host = EXCLUDED.host`,
  )

const likePrefix = (ref: string) => `${ref.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** The tasks whose id is `ref` or starts with it (at most 11), with their hosts. */
export const placementsMatching = (ref: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    orEmptyBeforeSchema(sql<{ task_id: string; host: string }>`SELECT task_id, host
      FROM codex_tasks_placements WHERE task_id LIKE ${likePrefix(ref)} ORDER BY task_id LIMIT 11`),
  )

/** The schema version the fleet tables carry (undefined before any runner created them). */
export const schemaVersion = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ value: string }>`SELECT value FROM codex_tasks_meta
    WHERE key = 'schema_version'`.pipe(Effect.orElseSucceed(() => []))
  return rows[0] === undefined ? undefined : Number(rows[0].value)
})

/**
 * Keeps what `tasks` (JSON of `host`'s tasks, as seen at `takenAt`) look like: `ls` shows them
 * from here. A task the fleet has not placed yet (made by a local command) is placed on `host`;
 * a snapshot taken before the one stored is not kept (a heartbeat's list can be older than a
 * message's answer that saved its own).
 */
export const saveSnapshots = (
  host: string,
  tasks: ReadonlyArray<{ readonly id: string }>,
  takenAt: Date,
) =>
  Effect.gen(function* () {
    if (tasks.length === 0) return
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO codex_tasks_placements AS p (task_id, host, snapshot, snapshot_at)
      SELECT s.snapshot->>'id', ${host}, s.snapshot, ${takenAt}
      FROM jsonb_array_elements(${JSON.stringify(tasks)}::jsonb) AS s(snapshot)
      ON CONFLICT (task_id) DO UPDATE SET snapshot = EXCLUDED.snapshot,
        snapshot_at = EXCLUDED.snapshot_at
      WHERE p.host = EXCLUDED.host AND (p.snapshot_at IS NULL OR p.snapshot_at <= EXCLUDED.snapshot_at)`
  })

/** A task's last snapshot, with its host's last heartbeat and whether that host is live. */
export interface SnapshotRow {
  readonly host: string
  readonly snapshot: unknown
  readonly heartbeatAt: Date | undefined
  readonly live: boolean
}

/** Every task's last snapshot (archived ones only with `includeArchived`), in one query. */
export const allSnapshots = (includeArchived: boolean) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* orEmptyBeforeSchema(sql<{
      host: string
      snapshot: unknown
      heartbeat_at: Date | null
      live: boolean | null
    }>`SELECT p.host, p.snapshot, h.heartbeat_at,
        h.heartbeat_at > now() - make_interval(secs => ${LIVE_WITHIN_MS / 1000}) AS live
      FROM codex_tasks_placements p LEFT JOIN codex_tasks_hosts h ON h.host = p.host
      WHERE p.snapshot IS NOT NULL AND (${includeArchived} OR p.snapshot->>'state' <> 'ARCHIVED')`)
    return rows.map(
      (r): SnapshotRow => ({
        host: r.host,
        snapshot: typeof r.snapshot === "string" ? JSON.parse(r.snapshot) : r.snapshot,
        heartbeatAt: r.heartbeat_at === null ? undefined : new Date(r.heartbeat_at),
        live: r.live === true,
      }),
    )
  })

/** The last known JSON of the tasks on `hosts` (those whose runner is gone). */
export const snapshotsOn = (hostIds: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (hostIds.length === 0) return []
    const sql = yield* SqlClient.SqlClient
    const rows = yield* orEmptyBeforeSchema(sql<{
      host: string
      snapshot: unknown
    }>`SELECT host, snapshot
      FROM codex_tasks_placements WHERE host IN ${sql.in(hostIds)} AND snapshot IS NOT NULL`)
    return rows.map((r) => ({
      host: r.host,
      snapshot: (typeof r.snapshot === "string" ? JSON.parse(r.snapshot) : r.snapshot) as unknown,
    }))
  })
