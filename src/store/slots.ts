/**
 * Run slots: at most N codex invocations at once across a store, first come first served.
 *
 * `<root>/.slots/` holds one ticket per invocation that wants a slot or holds one:
 * `<seq>.json`, where `seq` is one more than the highest ticket's (drawn under `slots.lock`); the file
 * holds the owner's process identity. An invocation with limit N holds a slot once fewer than N
 * live tickets are ahead of its own; with one N for everybody those are exactly the first N
 * tickets. A ticket whose owner is gone (pid + start time, as the task lock checks) is removed by
 * whoever sees it, so a SIGKILLed holder frees its slot.
 */
import { readdir, readFile, unlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Option, Schema, type Scope } from "effect"
import { ProcessIdentity } from "../processes/identity.js"
import { currentIdentity, isSameProcessAlive } from "../processes/procfs.js"
import { ensurePrivateDir } from "./atomic.js"
import { errnoCode, type LockTimeout, type StoreError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"
import { withTaskLock } from "./lock.js"

/** Directory of the slot tickets inside the store root. */
export const SLOTS_DIR = ".slots"
const LOCK = "slots.lock"
const TICKET = /^(\d{12})\.json$/

const decodeOwner = Schema.decodeUnknownOption(Schema.parseJson(ProcessIdentity))
const encodeOwner = Schema.encodeSync(Schema.parseJson(ProcessIdentity))

/** How often a waiter looks at the tickets ahead of it. */
export const SLOT_POLL_MS = 100

/** One ticket in the queue. */
export interface SlotTicket {
  readonly seq: number
  readonly path: string
}

/** What a waiter is told when it has to wait: how many invocations are ahead of it. */
export interface SlotWait {
  readonly ahead: number
  readonly limit: number
}

const ignoreMissing = <A>(p: Promise<A>) =>
  p.catch((e) => {
    if (errnoCode(e) === "ENOENT") return undefined
    throw e
  })

/** Draws the next sequence number and writes the ticket, under the slots lock. */
const register = (dir: string, owner: ProcessIdentity) =>
  withTaskLock(
    dir,
    Effect.gen(function* () {
      // After the last ticket: a number is reused only once nobody holds it, which is harmless.
      const names = yield* tryFs("readdir", dir, () => readdir(dir))
      const seq =
        names.reduce((max, name) => Math.max(max, Number(TICKET.exec(name)?.[1] ?? 0)), 0) + 1
      const path = join(dir, `${String(seq).padStart(12, "0")}.json`)
      yield* tryFs("write", path, () => {
        faultPoint("slot.register", path)
        return writeFile(path, encodeOwner(owner), { mode: 0o600 })
      })
      return { seq, path } satisfies SlotTicket
    }),
    { file: LOCK },
  )

/** The live tickets ahead of `mine`; tickets of dead owners are removed on the way. */
const liveAhead = (dir: string, mine: SlotTicket) =>
  Effect.gen(function* () {
    const names = yield* tryFs("readdir", dir, () => readdir(dir))
    let ahead = 0
    for (const name of names) {
      const m = TICKET.exec(name)
      if (m === null || Number(m[1]) >= mine.seq) continue
      const path = join(dir, name)
      const text = yield* tryFs("read", path, () => ignoreMissing(readFile(path, "utf8")))
      if (text === undefined) continue
      const owner = decodeOwner(text)
      // An unreadable ticket is not ours to judge by owner: it is removed like a dead one.
      if (Option.isSome(owner) && isSameProcessAlive(owner.value)) ahead++
      else
        yield* tryFs("unlink", path, () => {
          faultPoint("slot.reap", path)
          return ignoreMissing(unlink(path))
        })
    }
    return ahead
  })

/**
 * Takes a run slot of the store at `root` for the current scope (released when it closes), with
 * at most `limit` slots held at once. Calls `onWait` once when the slot is not free at once, and
 * `onTaken` once after a wait ended.
 */
export const takeSlot = (
  root: string,
  limit: number,
  hooks: {
    readonly onWait?: (wait: SlotWait) => Effect.Effect<void>
    readonly onTaken?: Effect.Effect<void>
  } = {},
): Effect.Effect<SlotTicket, StoreError | LockTimeout, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = join(root, SLOTS_DIR)
    yield* ensurePrivateDir(dir)
    const ticket = yield* Effect.acquireRelease(register(dir, currentIdentity()), (t) =>
      tryFs("unlink", t.path, () => {
        faultPoint("slot.release", t.path)
        return ignoreMissing(unlink(t.path))
      }).pipe(Effect.ignore),
    )
    let waited = false
    for (;;) {
      const ahead = yield* liveAhead(dir, ticket)
      if (ahead < limit) break
      if (!waited) {
        waited = true
        if (hooks.onWait !== undefined) yield* hooks.onWait({ ahead, limit })
      }
      yield* Effect.sleep(SLOT_POLL_MS)
    }
    if (waited && hooks.onTaken !== undefined) yield* hooks.onTaken
    return ticket
  })

/** The number of live tickets (holders and waiters) in the store at `root`. */
export const slotTickets = (root: string) =>
  liveAhead(join(root, SLOTS_DIR), { seq: Number.MAX_SAFE_INTEGER, path: "" }).pipe(
    Effect.catchIf(
      (e) => e._tag === "StoreError" && errnoCode(e.cause) === "ENOENT",
      () => Effect.succeed(0),
    ),
  )
