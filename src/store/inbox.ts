import { existsSync, readdirSync } from "node:fs"
import { mkdir, readFile, rename, unlink } from "node:fs/promises"
import { join } from "node:path"
import { Array as Arr, Effect, Option, Schema } from "effect"
import { nowTimestamp, Timestamp } from "../domain/task.js"
import { syncDir as syncDirectory, writeFileAtomic } from "./atomic.js"
import { errnoCode, StoreError, storeError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"

/** Directory of the durable prompt queue inside a task directory. */
export const INBOX_DIR = "inbox"
// Highest sequence number ever handed out; numbers are never reused even when the queue empties.
const SEQ_FILE = ".seq"
const ENTRY = /^(\d{12})\.json$/
// A prompt a worker has taken and not finished yet: renamed from `.json`, so it stays on disk
// (never lost) but is no longer queued. Removed once its turn ended and was recorded.
const IN_FLIGHT = /^(\d{12})\.inflight$/
// A prompt being dropped (a stop, a failure, a spent budget): renamed from `.json` before the drop
// is recorded, so a crash in between can neither lose it silently nor leave it queued (it would
// run later, though the log says it was dropped). Removed once the drop is recorded.
const DROPPING = /^(\d{12})\.dropping$/

/** A prompt accepted while the task was busy (or before its worker picked it up). */
export const InboxEntry = Schema.Struct({
  seq: Schema.Number.pipe(Schema.int(), Schema.positive()),
  prompt: Schema.String,
  accepted_at: Timestamp,
  /** `send --steer`: join the turn in flight if there still is one, else run as queued. */
  steer: Schema.optional(Schema.Boolean),
})
/** An inbox entry. */
export type InboxEntry = typeof InboxEntry.Type

const decodeEntry = Schema.decodeUnknownEither(Schema.parseJson(InboxEntry))
const encodeEntry = Schema.encodeSync(Schema.parseJson(InboxEntry))

/** Where a pushed prompt landed: its sequence number and 1-based place among pending prompts. */
export interface InboxReceipt {
  readonly seq: number
  readonly position: number
}

const entryName = (seq: number) => `${String(seq).padStart(12, "0")}.json`
const inFlightName = (seq: number) => `${String(seq).padStart(12, "0")}.inflight`
const droppingName = (seq: number) => `${String(seq).padStart(12, "0")}.dropping`

const orUndefinedIfMissing = <A>(p: Promise<A>): Promise<A | undefined> =>
  p.catch((e) => {
    if (errnoCode(e) === "ENOENT") return undefined
    throw e
  })

/**
 * The names in the task's inbox directory (none when it does not exist). Read synchronously: a
 * listing asks every task, and most have no inbox; one failed syscall each is far cheaper than a
 * trip through the thread pool each.
 */
const listNames = (dir: string) => {
  const inbox = join(dir, INBOX_DIR)
  return Effect.try({
    try: () => {
      try {
        return readdirSync(inbox)
      } catch (e) {
        if (errnoCode(e) === "ENOENT") return []
        throw e
      }
    },
    catch: storeError("list", inbox),
  })
}

/**
 * True when the task's inbox may hold a queued prompt (a pending entry's name is there), read
 * synchronously for a listing; an unreadable inbox says true (the caller looks closer).
 */
export const mayHavePending = (dir: string): boolean => {
  const inbox = join(dir, INBOX_DIR)
  // Most tasks have no inbox: asked without a thrown ENOENT (costly a thousand times over).
  if (!existsSync(inbox)) return false
  try {
    return readdirSync(inbox).some((name) => ENTRY.test(name))
  } catch {
    return true
  }
}

/** Sequence numbers of the names matching `pattern`, ascending. */
const seqsIn = (names: ReadonlyArray<string>, pattern: RegExp): Array<number> =>
  names
    .flatMap((name) => {
      const m = pattern.exec(name)
      return m === null ? [] : [Number(m[1])]
    })
    .sort((a, b) => a - b)

/** Sequence numbers of the entries whose names match `pattern`, ascending. */
const seqsMatching = (dir: string, pattern: RegExp) =>
  Effect.map(listNames(dir), (names) => seqsIn(names, pattern))

/** Sequence numbers of the pending (queued, not taken) entries, ascending. */
const pendingSeqs = (dir: string) => seqsMatching(dir, ENTRY)

/** Reads one entry; none if it was removed meanwhile. */
const readEntry = (dir: string, seq: number, name: (seq: number) => string = entryName) =>
  Effect.gen(function* () {
    const path = join(dir, INBOX_DIR, name(seq))
    const text = yield* tryFs("read", path, () => orUndefinedIfMissing(readFile(path, "utf8")))
    if (text === undefined) return Option.none<InboxEntry>()
    const decoded = decodeEntry(text)
    if (decoded._tag === "Left") {
      return yield* new StoreError({
        message: `corrupt inbox entry ${path}`,
        path,
        cause: decoded.left,
      })
    }
    return Option.some(decoded.right)
  })

/**
 * Appends a prompt to the task's inbox, durably (fsynced with its directory entry) before it
 * returns; the caller must hold the task lock. `floor` is the highest sequence number known to
 * have been used elsewhere (the task's `inbox_done_seq`): numbers never go below it.
 */
export const push = (
  dir: string,
  prompt: string,
  floor = 0,
  steer = false,
): Effect.Effect<InboxReceipt, StoreError> =>
  Effect.gen(function* () {
    const inbox = join(dir, INBOX_DIR)
    // Not `mkdir -p`: a task directory that was moved away (archived) must not be recreated.
    yield* tryFs("mkdir", inbox, () => {
      faultPoint("dir.mkdir", inbox)
      return mkdir(inbox, { mode: 0o700 }).catch((e) => {
        if (errnoCode(e) !== "EEXIST") throw e
      })
    })
    const seqPath = join(inbox, SEQ_FILE)
    const counterText = yield* tryFs("read", seqPath, () =>
      orUndefinedIfMissing(readFile(seqPath, "utf8")),
    )
    const counter = Number.parseInt(counterText ?? "0", 10)
    // One listing for both: the queued entries and the ones in flight.
    const { existing, taken } = yield* Effect.map(listNames(dir), (names) => ({
      existing: seqsIn(names, ENTRY),
      taken: [...seqsIn(names, IN_FLIGHT), ...seqsIn(names, DROPPING)].sort((a, b) => a - b),
    }))
    const seq =
      Math.max(
        Number.isFinite(counter) ? counter : 0,
        existing.at(-1) ?? 0,
        taken.at(-1) ?? 0,
        floor,
      ) + 1
    // Counter first, entry second: a crash in between leaves a gap, never a number handed out
    // twice (an entry taken and removed before the counter was written would otherwise be
    // forgotten, and its number, whose answer is recorded, given to the next prompt).
    yield* writeFileAtomic(seqPath, `${seq}\n`)
    const entry: InboxEntry = {
      seq,
      prompt,
      accepted_at: nowTimestamp(),
      ...(steer ? { steer: true } : {}),
    }
    yield* writeFileAtomic(join(inbox, entryName(seq)), `${encodeEntry(entry)}\n`)
    yield* syncDirectory(inbox)
    return { seq, position: existing.length + 1 }
  })

/** All pending entries in acceptance order. */
export const pending = (dir: string): Effect.Effect<ReadonlyArray<InboxEntry>, StoreError> =>
  Effect.flatMap(pendingSeqs(dir), (seqs) =>
    Effect.forEach(seqs, (seq) => readEntry(dir, seq)),
  ).pipe(Effect.map(Arr.getSomes))

/** The oldest pending entry, if any. */
export const peek = (dir: string): Effect.Effect<Option.Option<InboxEntry>, StoreError> =>
  Effect.gen(function* () {
    for (const seq of yield* pendingSeqs(dir)) {
      const entry = yield* readEntry(dir, seq)
      if (Option.isSome(entry)) return entry
    }
    return Option.none()
  })

/** Removes an entry (delivered or dropped); a missing entry is not an error. */
export const remove = (dir: string, seq: number): Effect.Effect<void, StoreError> => {
  const path = join(dir, INBOX_DIR, entryName(seq))
  return tryFs("unlink", path, () => {
    faultPoint("inbox.remove", path)
    return orUndefinedIfMissing(unlink(path))
  }).pipe(Effect.asVoid)
}

/**
 * Takes a pending entry for delivery: it is renamed to its in-flight name (durably), so it is no
 * longer queued but stays on disk until `finish`. The caller holds the lock.
 */
export const take = (dir: string, seq: number): Effect.Effect<void, StoreError> => {
  const inbox = join(dir, INBOX_DIR)
  const from = join(inbox, entryName(seq))
  return tryFs("rename", from, () => {
    faultPoint("inbox.take", from)
    return rename(from, join(inbox, inFlightName(seq)))
  }).pipe(Effect.zipRight(syncDirectory(inbox)))
}

/** Entries taken for delivery and not finished (a lost worker leaves its prompt here). */
export const inFlight = (dir: string): Effect.Effect<ReadonlyArray<InboxEntry>, StoreError> =>
  Effect.flatMap(seqsMatching(dir, IN_FLIGHT), (seqs) =>
    Effect.forEach(seqs, (seq) => readEntry(dir, seq, inFlightName)),
  ).pipe(Effect.map(Arr.getSomes))

/** Removes a taken entry once its turn is over and recorded; a missing one is not an error. */
export const finish = (dir: string, seq: number): Effect.Effect<void, StoreError> => {
  const path = join(dir, INBOX_DIR, inFlightName(seq))
  return tryFs("unlink", path, () => {
    faultPoint("inbox.finish", path)
    return orUndefinedIfMissing(unlink(path))
  }).pipe(Effect.asVoid)
}

/**
 * Marks pending entries as being dropped (renamed to `.dropping`, durably): no longer queued,
 * still on disk until `finishDropping`. The caller holds the lock.
 */
export const markDropping = (
  dir: string,
  seqs: ReadonlyArray<number>,
): Effect.Effect<void, StoreError> => {
  const inbox = join(dir, INBOX_DIR)
  return Effect.forEach(seqs, (seq) => {
    const from = join(inbox, entryName(seq))
    return tryFs("rename", from, () => {
      faultPoint("inbox.drop", from)
      return orUndefinedIfMissing(rename(from, join(inbox, droppingName(seq))))
    })
  }).pipe(Effect.zipRight(seqs.length === 0 ? Effect.void : syncDirectory(inbox)))
}

/** Entries marked as being dropped whose drop was not recorded and removed (a crash between). */
export const dropping = (dir: string): Effect.Effect<ReadonlyArray<InboxEntry>, StoreError> =>
  Effect.flatMap(seqsMatching(dir, DROPPING), (seqs) =>
    Effect.forEach(seqs, (seq) => readEntry(dir, seq, droppingName)),
  ).pipe(Effect.map(Arr.getSomes))

/** Removes an entry whose drop is recorded; a missing one is not an error. */
export const finishDropping = (dir: string, seq: number): Effect.Effect<void, StoreError> => {
  const path = join(dir, INBOX_DIR, droppingName(seq))
  return tryFs("unlink", path, () => {
    faultPoint("inbox.finish", path)
    return orUndefinedIfMissing(unlink(path))
  }).pipe(Effect.asVoid)
}

/** Removes and returns every pending entry (a stop drops them); the caller holds the lock. */
export const drain = (dir: string): Effect.Effect<ReadonlyArray<InboxEntry>, StoreError> =>
  Effect.tap(pending(dir), (entries) => Effect.forEach(entries, (e) => remove(dir, e.seq)))
