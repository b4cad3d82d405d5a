import { mkdir, readdir, readFile, unlink } from "node:fs/promises"
import { join } from "node:path"
import { Array as Arr, Effect, Option, Schema } from "effect"
import { nowTimestamp, Timestamp } from "../domain/task.js"
import { writeFileAtomic } from "./atomic.js"
import { errnoCode, StoreError, tryFs } from "./errors.js"

/** Directory of the durable prompt queue inside a task directory. */
export const INBOX_DIR = "inbox"
// Highest sequence number ever handed out; numbers are never reused even when the queue empties.
const SEQ_FILE = ".seq"
const ENTRY = /^(\d{12})\.json$/

/** A prompt accepted while the task was busy (or before its worker picked it up). */
export const InboxEntry = Schema.Struct({
  seq: Schema.Number.pipe(Schema.int(), Schema.positive()),
  prompt: Schema.String,
  accepted_at: Timestamp,
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

const orUndefinedIfMissing = <A>(p: Promise<A>): Promise<A | undefined> =>
  p.catch((e) => {
    if (errnoCode(e) === "ENOENT") return undefined
    throw e
  })

/** Sequence numbers of the pending entries, ascending. */
const pendingSeqs = (dir: string) => {
  const inbox = join(dir, INBOX_DIR)
  return tryFs("list", inbox, () => orUndefinedIfMissing(readdir(inbox))).pipe(
    Effect.map((names) =>
      (names ?? [])
        .flatMap((name) => {
          const m = ENTRY.exec(name)
          return m === null ? [] : [Number(m[1])]
        })
        .sort((a, b) => a - b),
    ),
  )
}

/** Reads one entry; none if it was removed meanwhile. */
const readEntry = (dir: string, seq: number) =>
  Effect.gen(function* () {
    const path = join(dir, INBOX_DIR, entryName(seq))
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

/** Appends a prompt to the task's inbox; the caller must hold the task lock. */
export const push = (dir: string, prompt: string): Effect.Effect<InboxReceipt, StoreError> =>
  Effect.gen(function* () {
    const inbox = join(dir, INBOX_DIR)
    // Not `mkdir -p`: a task directory that was moved away (archived) must not be recreated.
    yield* tryFs("mkdir", inbox, () =>
      mkdir(inbox, { mode: 0o700 }).catch((e) => {
        if (errnoCode(e) !== "EEXIST") throw e
      }),
    )
    const seqPath = join(inbox, SEQ_FILE)
    const counterText = yield* tryFs("read", seqPath, () =>
      orUndefinedIfMissing(readFile(seqPath, "utf8")),
    )
    const counter = Number.parseInt(counterText ?? "0", 10)
    const existing = yield* pendingSeqs(dir)
    // Entry first, counter second: after a crash in between, max(existing) still moves past it.
    const seq = Math.max(Number.isFinite(counter) ? counter : 0, existing.at(-1) ?? 0) + 1
    const entry: InboxEntry = { seq, prompt, accepted_at: nowTimestamp() }
    yield* writeFileAtomic(join(inbox, entryName(seq)), `${encodeEntry(entry)}\n`)
    yield* writeFileAtomic(seqPath, `${seq}\n`)
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
  return tryFs("unlink", path, () => orUndefinedIfMissing(unlink(path))).pipe(Effect.asVoid)
}

/** Removes and returns every pending entry (a stop drops them); the caller holds the lock. */
export const drain = (dir: string): Effect.Effect<ReadonlyArray<InboxEntry>, StoreError> =>
  Effect.tap(pending(dir), (entries) => Effect.forEach(entries, (e) => remove(dir, e.seq)))
