/**
 * `doctor --cluster`: the fleet's health as checks. Process health is not enough: the engine has
 * an open bug where message consumption stalls while runners look healthy (Effect-TS/effect#6248),
 * so the age of the oldest message still waiting for a live host is checked too.
 */
import { Snowflake } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { Check } from "../tasks/doctor.js"
import { fleetLimitChecks } from "./limitsDoctor.js"
import { hosts, SCHEMA_VERSION, schemaVersion } from "./registry.js"

/** A message waiting longer than this for a live host means the engine is stuck. */
export const STALL_AFTER_MS = 120_000
/** Clocks further apart than this from the database's are reported. */
export const SKEW_WARN_MS = 2_000

/** An unprocessed message: its host (shard group) and how long it has waited. */
export interface Waiting {
  readonly host: string
  readonly ageMs: number
}

/** The backlog check: the oldest message waiting for a live host, judged against `stallAfterMs`. */
export const backlogCheck = (
  waiting: ReadonlyArray<Waiting>,
  liveHosts: ReadonlySet<string>,
  stallAfterMs = STALL_AFTER_MS,
): Check => {
  const live = waiting.filter((w) => liveHosts.has(w.host)).sort((a, b) => b.ageMs - a.ageMs)
  const parked = waiting.length - live.length
  const oldest = live[0]
  const note = parked > 0 ? `; ${parked} message(s) wait for hosts without a live runner` : ""
  if (oldest === undefined) {
    return { name: "message backlog", ok: true, required: true, detail: `none${note}` }
  }
  const seconds = Math.round(oldest.ageMs / 1000)
  const ok = oldest.ageMs <= stallAfterMs
  return {
    name: "message backlog",
    ok,
    required: true,
    detail: `${live.length} message(s) for live hosts, the oldest (host ${oldest.host}) ${seconds} s old${note}`,
    fix: ok
      ? undefined
      : `restart the runner of host ${oldest.host}: its messages are not consumed (Effect-TS/effect#6248)`,
  }
}

const groupOf = (shardId: string) => shardId.slice(0, Math.max(0, shardId.lastIndexOf(":")))

/** The fleet's checks: PostgreSQL and its clock, the schema version, live runners, the backlog. */
export const fleetChecks = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const before = Date.now()
  const [row] = yield* sql<{
    version: string
    now: Date
  }>`SELECT version() AS version, now() AS now`
  const after = Date.now()
  const skew = new Date(row?.now ?? after).getTime() - (before + after) / 2
  const checks: Array<Check> = [
    {
      name: "postgres",
      ok: true,
      required: true,
      detail: (row?.version ?? "").split(" on ")[0] ?? "",
    },
    {
      name: "clock skew",
      ok: Math.abs(skew) <= SKEW_WARN_MS,
      required: false,
      detail: `this machine's clock is ${Math.round(Math.abs(skew))} ms ${skew > 0 ? "behind" : "ahead of"} the database's`,
      fix: "run NTP (e.g. systemd-timesyncd) on every machine of the fleet",
    },
  ]
  const version = yield* schemaVersion
  checks.push({
    name: "schema version",
    ok: version === SCHEMA_VERSION,
    required: true,
    detail:
      version === undefined
        ? "no fleet tables yet (a runner creates them)"
        : `${version} (this codex-tasks: ${SCHEMA_VERSION})`,
    fix:
      version === undefined
        ? "start a runner: codex-tasks runner --cluster URL --host-id NAME"
        : "run the same codex-tasks version on every machine",
  })
  const all = yield* hosts
  const live = all.filter((h) => h.live)
  const lost = all.filter((h) => !h.live)
  checks.push({
    name: "live runners",
    ok: live.length > 0,
    required: true,
    detail: [
      live.map((h) => `${h.host} (${h.running} running)`).join(", ") || "none",
      ...lost.map((h) => `${h.host}: no heartbeat since ${h.heartbeatAt.toISOString()}`),
    ].join("; "),
    fix: "start `codex-tasks runner --cluster URL --host-id NAME` on each machine",
  })
  const rows = yield* sql<{ id: string; shard_id: string }>`SELECT id::text AS id, shard_id
    FROM cluster_messages WHERE processed = false AND kind = 0 ORDER BY id LIMIT 1000`.pipe(
    Effect.orElseSucceed(() => []),
  )
  const now = Date.now()
  const waiting = rows.map((r) => ({
    host: groupOf(r.shard_id),
    ageMs: now - Snowflake.timestamp(Snowflake.Snowflake(r.id)),
  }))
  checks.push(backlogCheck(waiting, new Set(live.map((h) => h.host))))
  checks.push(...(yield* fleetLimitChecks))
  return checks
})
