/**
 * Run slots: at most N codex invocations at once across a store, first come first served.
 *
 * `<root>/.slots/` holds one ticket per invocation that wants a slot or holds one:
 * `<seq>.json`, where `seq` is one more than the highest ticket's (drawn under `slots.lock`); the file
 * holds the owner's process identity and the invocation's run marker. An invocation with limit N
 * holds a slot once fewer than N live tickets are ahead of its own; with one N for everybody those
 * are exactly the first N tickets. A ticket is live while its owner runs (pid + start time, as the
 * task lock checks) or, once the owner is gone, while a process carrying its run marker does (a
 * SIGKILLed worker's codex runs on and still counts); a ticket that is neither is removed by
 * whoever sees it.
 *
 * A waiter watches the directory and looks again only when a ticket it counted as live ahead of it
 * is removed and that could free a slot for it (one waiter per released slot wakes, not all of
 * them), and otherwise every `SLOT_RECHECK_MS` (with jitter), for owners that die without a trace.
 */
import { type FSWatcher, watch } from "node:fs"
import { readdir, readFile, unlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Deferred, Effect, Option, Random, Schema, type Scope } from "effect"
import { ProcessIdentity } from "../processes/identity.js"
import { currentIdentity, isSameProcessAlive, processesByEnv } from "../processes/procfs.js"
import { RUN_MARKER_VAR } from "../processes/runMarker.js"
import { ensurePrivateDir } from "./atomic.js"
import { errnoCode, type LockTimeout, type StoreError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"
import { withTaskLock } from "./lock.js"

/** Directory of the slot tickets inside the store root. */
export const SLOTS_DIR = ".slots"
const LOCK = "slots.lock"
const TICKET = /^(\d{12})\.json$/

/** What a ticket says: the owner process and the run marker its codex processes carry. */
const TicketOwner = Schema.extend(
  ProcessIdentity,
  Schema.Struct({ runId: Schema.optional(Schema.String).pipe(Schema.fromKey("run_id")) }),
)
type TicketOwner = typeof TicketOwner.Type

const decodeOwner = Schema.decodeUnknownOption(Schema.parseJson(TicketOwner))
const encodeOwner = Schema.encodeSync(Schema.parseJson(TicketOwner))

/**
 * How long a waiter trusts the directory watch alone before it looks again (ms; each wait adds up
 * to half of it again as jitter, so waiters do not look all at once).
 */
export const SLOT_RECHECK_MS = 2_000
// Without a watch (no inotify instance left), the waiter polls.
const POLL_WITHOUT_WATCH_MS = 500

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
const register = (dir: string, owner: TicketOwner) =>
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

/**
 * The names of the live tickets ahead of `mine`, nearest first, at most `enough` of them (the
 * nearer ones are all a waiter needs to know it must wait); tickets of dead owners met on the way
 * are removed. `owners` caches what each ticket says (a ticket is never rewritten).
 */
const liveAhead = (
  dir: string,
  mine: SlotTicket,
  owners: Map<string, TicketOwner>,
  enough = Number.POSITIVE_INFINITY,
) =>
  Effect.gen(function* () {
    const names = (yield* tryFs("readdir", dir, () => readdir(dir)))
      .filter((name) => {
        const m = TICKET.exec(name)
        return m !== null && Number(m[1]) < mine.seq
      })
      .sort()
      .reverse()
    const live: Array<string> = []
    // Read once per look, and only when an owner is gone: the whole process table.
    let marked: ReadonlyMap<string, ReadonlyArray<unknown>> | undefined
    for (const name of names) {
      if (live.length >= enough) break
      const path = join(dir, name)
      let owner = owners.get(name)
      if (owner === undefined) {
        const text = yield* tryFs("read", path, () => ignoreMissing(readFile(path, "utf8")))
        if (text === undefined) continue
        owner = Option.getOrUndefined(decodeOwner(text))
        if (owner !== undefined) owners.set(name, owner)
      }
      if (owner !== undefined && isSameProcessAlive(owner)) {
        live.push(name)
        continue
      }
      // A worker killed outright leaves its codex running: the slot stays taken until it ends.
      if (owner?.runId !== undefined) {
        marked ??= processesByEnv(RUN_MARKER_VAR)
        if ((marked.get(owner.runId)?.length ?? 0) > 0) {
          live.push(name)
          continue
        }
      }
      // An unreadable ticket is not ours to judge by owner: it is removed like a dead one.
      owners.delete(name)
      yield* tryFs("unlink", path, () => {
        faultPoint("slot.reap", path)
        return ignoreMissing(unlink(path))
      })
    }
    return live
  })

/** Watches `dir`, calling `onName` with each changed name (undefined when the name is unknown). */
const watchDir = (dir: string, onName: (name: string | undefined) => void) =>
  Effect.acquireRelease(
    Effect.sync((): FSWatcher | undefined => {
      try {
        const w = watch(dir, (_event, name) => onName(name ?? undefined))
        w.on("error", () => onName(undefined))
        return w
      } catch {
        return undefined
      }
    }),
    (w) => Effect.sync(() => w?.close()),
  )

/** Waits until fewer than `limit` live tickets are ahead of `ticket`. */
const waitForSlot = (
  dir: string,
  ticket: SlotTicket,
  limit: number,
  onWait: (wait: SlotWait) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const owners = new Map<string, TicketOwner>()
    // The live tickets ahead at the last look, and what wakes the waiter: a removal that leaves
    // fewer than `limit` of them (or a change it cannot place).
    let counted = new Set<string>()
    // Removed while a look was under way (the look may have counted them).
    const removed = new Set<string>()
    let wake = yield* Deferred.make<void>()
    const watcher = yield* watchDir(dir, (name) => {
      if (name !== undefined) removed.add(name)
      if (name !== undefined && !counted.delete(name)) return
      if (name === undefined || counted.size < limit) Deferred.unsafeDone(wake, Effect.void)
    })
    let waited = false
    for (;;) {
      // The watch is armed before each look, so no removal between a look and the wait is lost.
      removed.clear()
      // The first look counts every ticket ahead (for `onWait`); later ones only the nearest
      // `limit`, and a waiter wakes only when one of those goes: the release of a slot wakes the
      // waiter right behind it, not the whole queue.
      const live = yield* liveAhead(dir, ticket, owners, waited ? limit : Number.POSITIVE_INFINITY)
      if (live.length < limit) return waited
      counted = new Set(live.slice(0, limit).filter((name) => !removed.has(name)))
      if (counted.size < limit) continue
      if (!waited) {
        waited = true
        yield* onWait({ ahead: live.length, limit })
      }
      const fallback =
        watcher === undefined
          ? POLL_WITHOUT_WATCH_MS
          : SLOT_RECHECK_MS + (yield* Random.nextIntBetween(0, SLOT_RECHECK_MS / 2))
      yield* Deferred.await(wake).pipe(Effect.timeoutOption(fallback))
      wake = yield* Deferred.make<void>()
    }
  }).pipe(Effect.scoped)

/** How `takeSlot` reports its wait, and the run marker its ticket carries. */
export interface TakeSlotOptions {
  /** Called once when the slot is not free at once. */
  readonly onWait?: (wait: SlotWait) => Effect.Effect<void>
  /** Called once after a wait ended with the slot. */
  readonly onTaken?: Effect.Effect<void>
  /** The invocation's run marker: while a process carries it, the ticket holds, owner or not. */
  readonly runId?: string | undefined
}

/**
 * Takes a run slot of the store at `root` for the current scope (released when it closes), with
 * at most `limit` slots held at once.
 */
export const takeSlot = (
  root: string,
  limit: number,
  options: TakeSlotOptions = {},
): Effect.Effect<SlotTicket, StoreError | LockTimeout, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = join(root, SLOTS_DIR)
    yield* ensurePrivateDir(dir)
    const owner: TicketOwner = {
      ...currentIdentity(),
      ...(options.runId === undefined ? {} : { runId: options.runId }),
    }
    const ticket = yield* Effect.acquireRelease(register(dir, owner), (t) =>
      tryFs("unlink", t.path, () => {
        faultPoint("slot.release", t.path)
        return ignoreMissing(unlink(t.path))
      }).pipe(Effect.ignore),
    )
    const waited = yield* waitForSlot(dir, ticket, limit, options.onWait ?? (() => Effect.void))
    if (waited && options.onTaken !== undefined) yield* options.onTaken
    return ticket
  })

/** The number of live tickets (holders and waiters) in the store at `root`. */
export const slotTickets = (root: string) =>
  liveAhead(join(root, SLOTS_DIR), { seq: Number.MAX_SAFE_INTEGER, path: "" }, new Map()).pipe(
    Effect.map((live) => live.length),
    Effect.catchIf(
      (e) => e._tag === "StoreError" && errnoCode(e.cause) === "ENOENT",
      () => Effect.succeed(0),
    ),
  )
