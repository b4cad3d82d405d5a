/**
 * Who notifies the end of a worker run (`--on-finish`, `--webhook`), exactly once: the file
 * `notify-<run id>.json` in the task directory, created with `O_EXCL` by the first to claim it
 * (the worker finishing its task, a `stop` that killed it, or the command that saw it lost). It
 * names the process doing the notification (`owner`) and says when it was done (`done_at`), so a
 * `status --wait` can wait for it and an `archive` does not move the task from under it.
 */
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option, Schema } from "effect"
import { ProcessIdentity } from "../processes/identity.js"
import { writeFileAtomic } from "./atomic.js"

/** What ended the worker run a notification reports. */
export const NotifyEvent = Schema.Literal(
  "finished",
  "worker_lost",
  "killed",
  // Not an end: the task waits for an answer to codex's request (never claimed).
  "approval_requested",
)
/** What ended the worker run (or `approval_requested`: what the task waits for). */
export type NotifyEvent = typeof NotifyEvent.Type

/** The claim of one worker run's notification. */
export const NotifyClaim = Schema.Struct({
  run_id: Schema.String,
  event: NotifyEvent,
  /** The process running the notifications (absent: nobody can be waited for). */
  owner: Schema.optional(ProcessIdentity),
  claimed_at: Schema.String,
  done_at: Schema.optional(Schema.String),
})
/** A notification claim. */
export type NotifyClaim = typeof NotifyClaim.Type

const Json = Schema.parseJson(NotifyClaim)
const decode = Schema.decodeUnknownOption(Json)
const encode = Schema.encodeSync(Json)
const PREFIX = "notify-"

/** The claim file of run `runId` (run ids are UUIDs: nothing in them leaves the directory). */
export const claimPath = (dir: string, runId: string) =>
  join(dir, `${PREFIX}${runId.replace(/[^A-Za-z0-9-]/g, "_")}.json`)

/**
 * Claims the notification of run `runId`: true for the one caller that created the file, false
 * when someone already has (or it cannot be written: then nobody notifies twice either).
 */
export const claimNotification = (
  dir: string,
  runId: string,
  event: NotifyEvent,
  owner: ProcessIdentity | undefined,
): Effect.Effect<boolean> =>
  Effect.sync(() => {
    const claim: NotifyClaim = {
      run_id: runId,
      event,
      ...(owner === undefined ? {} : { owner }),
      claimed_at: new Date().toISOString(),
    }
    let fd: number
    try {
      fd = openSync(claimPath(dir, runId), "wx", 0o600)
    } catch {
      return false
    }
    try {
      writeSync(fd, `${encode(claim)}\n`)
    } finally {
      closeSync(fd)
    }
    return true
  })

/** The claim of run `runId`, if any. */
export const readClaim = (dir: string, runId: string): Option.Option<NotifyClaim> => {
  try {
    return decode(readFileSync(claimPath(dir, runId), "utf8"))
  } catch {
    return Option.none()
  }
}

/** Every claim in the task directory (a task has one per worker run that notified). */
export const readClaims = (dir: string): ReadonlyArray<NotifyClaim> => {
  let names: Array<string>
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(PREFIX) && n.endsWith(".json"))
  } catch {
    return []
  }
  return names.flatMap((n) => {
    try {
      return Option.toArray(decode(readFileSync(join(dir, n), "utf8")))
    } catch {
      return []
    }
  })
}

/** Rewrites run `runId`'s claim (atomic replace): a new owner, or done. */
export const updateClaim = (
  dir: string,
  runId: string,
  f: (claim: NotifyClaim) => NotifyClaim,
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const claim = readClaim(dir, runId)
    if (Option.isNone(claim)) return
    yield* writeFileAtomic(claimPath(dir, runId), `${encode(f(claim.value))}\n`)
  }).pipe(Effect.ignore)

/** Marks run `runId`'s notification done. */
export const claimDone = (dir: string, runId: string): Effect.Effect<void> =>
  updateClaim(dir, runId, (c) => ({ ...c, done_at: new Date().toISOString() }))
