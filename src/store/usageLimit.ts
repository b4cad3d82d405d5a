/**
 * The store-wide usage-limit record `<root>/.usage-limit.json`: once one worker learns when the
 * account's usage limit resets, the others do not start turns before it, so ten tasks
 * do not hit the limit ten times. Written atomically under `<root>/.usage-limit.lock`, keeping the
 * latest reset of an account. A record is trusted only for the account it was learned on (its
 * `codex_home`, and `account` when known), when it was not written in the future and names a
 * reset codex could name (at most `MAX_RESET_AHEAD_MS` ahead); anything else counts as none.
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Either, Schema } from "effect"
import { Timestamp, timestampMillis } from "../domain/task.js"
import { writeFileAtomic } from "./atomic.js"
import { type LockTimeout, type StoreError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"
import { withTaskLock } from "./lock.js"

/** The file's name in the store root. */
export const USAGE_LIMIT_FILE = ".usage-limit.json"
const LOCK = ".usage-limit.lock"

/**
 * The furthest ahead a reset may lie: codex's longest usage window is a week, so a reset more
 * than 8 days after it was learned (or after now) is not one codex reported.
 */
export const MAX_RESET_AHEAD_MS = 8 * 24 * 3_600_000
/** How far in the future `recorded_at` may lie (clocks of one machine, a little skew) and count. */
export const MAX_RECORDED_SKEW_MS = 5 * 60_000

/** Whose usage limit a record is: codex's home directory and, when known, a hash of its account. */
export interface UsageIdentity {
  readonly codexHome: string
  readonly account?: string | undefined
}

/** The record: the reset time, who learned it, when, for which account. */
export const UsageLimitRecord = Schema.Struct({
  until: Timestamp,
  recorded_at: Timestamp,
  task_id: Schema.optional(Schema.String),
  codex_home: Schema.optional(Schema.String),
  account: Schema.optional(Schema.String),
})
/** The store-wide usage-limit record. */
export type UsageLimitRecord = typeof UsageLimitRecord.Type

const decode = Schema.decodeUnknownEither(Schema.parseJson(UsageLimitRecord))

/** The reset (epoch ms) `record` names, if it can be trusted for `who` at `nowMs`. */
export const trustedReset = (
  record: UsageLimitRecord,
  who: UsageIdentity,
  nowMs: number,
): number | undefined => {
  // Older versions wrote no identity: whose limit it was cannot be told, so it is not trusted.
  if (record.codex_home !== who.codexHome || record.account !== who.account) return undefined
  const until = timestampMillis(record.until)
  const recorded = timestampMillis(record.recorded_at)
  if (Number.isNaN(until) || Number.isNaN(recorded)) return undefined
  if (recorded > nowMs + MAX_RECORDED_SKEW_MS) return undefined
  if (until > recorded + MAX_RESET_AHEAD_MS || until > nowMs + MAX_RESET_AHEAD_MS) return undefined
  return until
}

/** The store's record as written (whoever it is for), if there is a readable one. */
export const readUsageLimitRecord = (root: string): Effect.Effect<UsageLimitRecord | undefined> =>
  Effect.promise(() => readFile(join(root, USAGE_LIMIT_FILE), "utf8").catch(() => undefined)).pipe(
    Effect.map((text) => {
      if (text === undefined) return undefined
      const record = decode(text)
      return Either.isLeft(record) ? undefined : record.right
    }),
  )

/** The known reset time (epoch ms) of `who`'s usage limit in the store at `root`, if trusted. */
export const readUsageLimit = (
  root: string,
  who: UsageIdentity,
  nowMs: number,
): Effect.Effect<number | undefined> =>
  Effect.map(readUsageLimitRecord(root), (record) =>
    record === undefined ? undefined : trustedReset(record, who, nowMs),
  )

/**
 * Records a reset time `who` learned now (`nowMs`) in task `taskId`, unless the store already
 * trusts a later one for the same account (concurrent writers keep the latest reset). A reset
 * past `MAX_RESET_AHEAD_MS` is not recorded.
 */
export const recordUsageLimit = (
  root: string,
  who: UsageIdentity,
  untilMs: number,
  nowMs: number,
  taskId: string | undefined,
): Effect.Effect<void, StoreError | LockTimeout> => {
  const record: UsageLimitRecord = {
    until: new Date(untilMs).toISOString(),
    recorded_at: new Date(nowMs).toISOString(),
    ...(taskId === undefined ? {} : { task_id: taskId }),
    codex_home: who.codexHome,
    ...(who.account === undefined ? {} : { account: who.account }),
  }
  if (trustedReset(record, who, nowMs) === undefined) return Effect.void
  return withTaskLock(
    root,
    Effect.gen(function* () {
      const known = yield* readUsageLimit(root, who, nowMs)
      if (known !== undefined && known >= untilMs) return
      const path = join(root, USAGE_LIMIT_FILE)
      yield* tryFs("write", path, async () => faultPoint("usage-limit.record", path))
      yield* writeFileAtomic(path, `${JSON.stringify(record)}\n`)
    }),
    { file: LOCK },
  )
}
