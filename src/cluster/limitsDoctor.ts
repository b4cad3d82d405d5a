/**
 * `doctor --cluster`'s view of the fleet's limits: how many fleet-wide run slots are held right
 * now (advisory locks, `worker/fleetSlotLocks.ts`) and which usage-limit resets the gate knows of
 * (`cluster/usageGate.ts`). Both are information, never a failure.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { Check } from "../tasks/doctor.js"
import { FLEET_SLOT_SPACE } from "../worker/fleetSlotLocks.js"

/** A reset the fleet knows of: the account's key, when, and where it was met. */
export interface KnownReset {
  readonly account: string
  readonly until: Date
  readonly host: string
}

/** The checks for `held` fleet slots and the `resets` still ahead. */
export const limitChecks = (held: number, resets: ReadonlyArray<KnownReset>): Array<Check> => [
  {
    name: "fleet run slots",
    ok: true,
    required: false,
    detail: `${held} held (tasks started with --max-running on the fleet)`,
  },
  {
    name: "usage limit",
    ok: true,
    required: false,
    detail:
      resets.length === 0
        ? "no reset pending"
        : resets
            .map(
              (r) =>
                `${r.account === "" ? "no ChatGPT account" : `account ${r.account}`}: turns wait until ${r.until.toISOString()} (met on host ${r.host})`,
            )
            .join("; "),
  },
]

/** The limits' checks, read from the fleet's database. */
export const fleetLimitChecks = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [slots] = yield* sql<{ held: string }>`SELECT count(*) AS held FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = ${FLEET_SLOT_SPACE}::int::oid
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.pipe(
    Effect.orElseSucceed(() => []),
  )
  const resets = yield* sql<{
    account: string
    until: Date
    host: string
  }>`SELECT account, until, host
    FROM codex_tasks_usage_limits WHERE until > now() ORDER BY account`.pipe(
    Effect.orElseSucceed(() => []),
  )
  return limitChecks(
    Number(slots?.held ?? 0),
    resets.map((r) => ({ account: r.account, until: new Date(r.until), host: r.host })),
  )
})
