/**
 * The store-wide usage-limit record `<root>/.usage-limit.json`: once one worker learns when the
 * account's usage limit resets, the others do not start turns before it (issue 12), so ten tasks
 * do not hit the limit ten times. Written atomically; unreadable or stale content counts as none.
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Either, Schema } from "effect"
import { Timestamp, timestampMillis } from "../domain/task.js"
import { writeFileAtomic } from "./atomic.js"
import { type StoreError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"

/** The file's name in the store root. */
export const USAGE_LIMIT_FILE = ".usage-limit.json"

/** The record: the reset time, who learned it, when. */
export const UsageLimitRecord = Schema.Struct({
  until: Timestamp,
  recorded_at: Timestamp,
  task_id: Schema.optional(Schema.String),
})
/** The store-wide usage-limit record. */
export type UsageLimitRecord = typeof UsageLimitRecord.Type

const decode = Schema.decodeUnknownEither(Schema.parseJson(UsageLimitRecord))

/** The known reset time (epoch ms) of the store rooted at `root`, if any. */
export const readUsageLimit = (root: string): Effect.Effect<number | undefined> =>
  Effect.promise(() => readFile(join(root, USAGE_LIMIT_FILE), "utf8").catch(() => undefined)).pipe(
    Effect.map((text) => {
      if (text === undefined) return undefined
      const record = decode(text)
      if (Either.isLeft(record)) return undefined
      const ms = timestampMillis(record.right.until)
      return Number.isNaN(ms) ? undefined : ms
    }),
  )

/** Records a reset time learned now (`nowMs`) by the task `taskId`. */
export const recordUsageLimit = (
  root: string,
  untilMs: number,
  nowMs: number,
  taskId: string | undefined,
): Effect.Effect<void, StoreError> => {
  const record: UsageLimitRecord = {
    until: new Date(untilMs).toISOString(),
    recorded_at: new Date(nowMs).toISOString(),
    ...(taskId === undefined ? {} : { task_id: taskId }),
  }
  const path = join(root, USAGE_LIMIT_FILE)
  return Effect.zipRight(
    tryFs("write", path, async () => faultPoint("usage-limit.record", path)),
    writeFileAtomic(path, `${JSON.stringify(record)}\n`),
  )
}
