/**
 * The fleet's usage-limit gate: one ChatGPT account behind many machines. Each runner watches its
 * store's usage-limit record (`store/usageLimit.ts`, written by its workers when codex reports a
 * limit) and publishes a new or later reset to `codex_tasks_usage_limits` (one row per account);
 * each runner also reads that table and writes a later reset of its own account into its store's
 * record through the same store function. Workers need no change: before each turn of an
 * existing task they already wait for a reset their store knows of.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Layer, Schedule } from "effect"
import { TaskStore } from "../store/TaskStore.js"
import {
  readUsageLimitRecord,
  recordUsageLimit,
  trustedReset,
  type UsageIdentity,
} from "../store/usageLimit.js"
import { usageIdentityOf } from "../worker/usageIdentity.js"

/** How often a runner looks at its store's record and at the fleet's table. */
export const USAGE_GATE_POLL_MS = 1_000

/** The fleet's key of an account: its hash, or "" for a home logged into no ChatGPT account. */
export const accountKey = (who: Pick<UsageIdentity, "account">) => who.account ?? ""

/** One round: publish this store's reset if it is new, then take the fleet's for `who`. */
export const gateRound = (host: string, root: string, who: UsageIdentity) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = yield* Clock.currentTimeMillis
    const record = yield* readUsageLimitRecord(root)
    // Whoever the record is for: it is published under its own account, if it is sound.
    const own =
      record === undefined
        ? undefined
        : trustedReset(record, { codexHome: record.codex_home ?? "", account: record.account }, now)
    if (record !== undefined && own !== undefined && own > now) {
      yield* sql`INSERT INTO codex_tasks_usage_limits (account, until, host, task_id)
        VALUES (${accountKey(record)}, ${new Date(own)}, ${host}, ${record.task_id ?? null})
        ON CONFLICT (account) DO UPDATE SET until = EXCLUDED.until, host = EXCLUDED.host,
          task_id = EXCLUDED.task_id, recorded_at = now()
        WHERE codex_tasks_usage_limits.until < EXCLUDED.until`
    }
    const rows = yield* sql<{ until: Date; task_id: string | null }>`SELECT until, task_id
      FROM codex_tasks_usage_limits WHERE account = ${accountKey(who)} AND until > now()`
    const row = rows[0]
    if (row === undefined) return
    // Kept only when later than what the store knows for this account (recordUsageLimit).
    yield* recordUsageLimit(root, who, new Date(row.until).getTime(), now, row.task_id ?? undefined)
  })

/**
 * The gate as a runner runs it, every `USAGE_GATE_POLL_MS`, for the account of the runner's own
 * `CODEX_HOME` (tasks with a `--config-file` elsewhere count against another home: not gated).
 */
export const usageGate = (host: string) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const store = yield* TaskStore
      const who = yield* usageIdentityOf({})
      const round = gateRound(host, store.root, who).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("codex-tasks runner: usage-limit gate failed", cause),
        ),
      )
      yield* Effect.forkScoped(Effect.repeat(round, Schedule.spaced(USAGE_GATE_POLL_MS)))
    }),
  )
