import { Schema } from "effect"

/**
 * Who a process is, not just its pid: on Linux `startTime` is the start time in clock ticks since
 * boot (`/proc/<pid>/stat` field 22) and `bootId` the kernel's boot id, so a recycled pid (or a
 * reboot) never passes for the original process. Elsewhere `startTime` is `""` and only the pid's
 * existence can be checked, which PID reuse can fool. Stored in `worker.json`, `run.json` and
 * lock files (snake_case keys).
 */
export const ProcessIdentity = Schema.Struct({
  pid: Schema.Number.pipe(Schema.int(), Schema.positive()),
  startTime: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("start_time")),
  bootId: Schema.optional(Schema.String).pipe(Schema.fromKey("boot_id")),
})
/** A process identity (pid + start time, and the boot when known). */
export type ProcessIdentity = typeof ProcessIdentity.Type

/** True when `now` (read just now) is the process `recorded` names: same pid, start time and boot. */
export const sameProcess = (recorded: ProcessIdentity, now: ProcessIdentity): boolean =>
  now.pid === recorded.pid &&
  now.startTime === recorded.startTime &&
  (now.bootId === undefined || recorded.bootId === undefined || now.bootId === recorded.bootId)

/** A key that tells identities apart (pid and start time). */
export const identityKey = (identity: ProcessIdentity): string =>
  `${identity.pid}:${identity.startTime}`
