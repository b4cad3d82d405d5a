import { randomBytes } from "node:crypto"
import { link, readFile, stat, unlink, writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import { Data, Duration, Effect, FiberRef, Schedule, Schema, type Scope } from "effect"
import { globalValue } from "effect/GlobalValue"
import { ProcessIdentity } from "../processes/identity.js"
// Lock owners are always real processes of this machine: the lock reads /proc directly.
import { currentIdentity, isSameProcessAlive } from "../processes/procfs.js"
import { tempPathFor } from "./atomic.js"
import { errnoCode, LockTimeout, type StoreError, tryFs } from "./errors.js"
import { faultPoint } from "./faults.js"

/** Name of the per-task lock file. */
export const LOCK_FILE = "task.lock"
const BREAK_SUFFIX = ".break"
/** Default time to wait for a task lock. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000
// A lock file we cannot parse (not written by us) is stale once it is this old.
const UNPARSEABLE_STALE_MS = 10_000

/** Who holds a lock: the owner's process identity plus a per-acquisition nonce. */
const LockOwner = Schema.extend(
  ProcessIdentity,
  Schema.Struct({ nonce: Schema.String, acquired_at: Schema.String }),
)
const decodeOwner = Schema.decodeUnknownOption(Schema.parseJson(LockOwner))
const encodeOwner = Schema.encodeSync(Schema.parseJson(LockOwner))

class LockBusy extends Data.TaggedError("LockBusy")<{ readonly holder: string | undefined }> {}

/** Options of a lock acquisition. */
export interface LockOptions {
  readonly timeoutMs?: number
  /** Name of the lock file inside the directory (default `task.lock`). */
  readonly file?: string
}

// Locks held by the current fiber. Child fibers inherit the leases, so work forked inside a critical
// section shares the lock instead of deadlocking on it; a lease ends when its scope closes, so a
// child that outlives the section acquires the lock for real.
interface Lease {
  readonly path: string
  active: boolean
}
const heldLocks = globalValue("codex-tasks/store/heldLocks", () =>
  FiberRef.unsafeMake<ReadonlyArray<Lease>>([]),
)

/** Reads a file, undefined if it does not exist. */
const readIfExists = (path: string) =>
  tryFs("read", path, () =>
    readFile(path, "utf8").catch((e) => {
      if (errnoCode(e) === "ENOENT") return undefined
      throw e
    }),
  )

/**
 * Creates `path` exclusively with `content` already in it: the content goes to a temporary file
 * that is hard-linked to `path` (`link` fails with EEXIST like `O_EXCL`), so nobody ever sees an
 * empty lock file. Returns false when `path` exists.
 */
const createExclusive = (path: string, content: string, point = "lock.acquire") =>
  tryFs("create", path, async () => {
    faultPoint(point, path)
    const tmp = tempPathFor(path)
    await writeFile(tmp, content, { flag: "wx", mode: 0o600 })
    try {
      await link(tmp, path)
      return true
    } catch (e) {
      if (errnoCode(e) === "EEXIST") return false
      throw e
    } finally {
      await unlink(tmp).catch(() => undefined)
    }
  })

/** Removes `path` only if it still holds `content`; callers make this race-free (see below). */
const removeIfContent = (path: string, content: string, point = "lock.release") =>
  Effect.gen(function* () {
    const now = yield* readIfExists(path)
    if (now === content) {
      yield* tryFs("unlink", path, () => {
        faultPoint(point, path)
        return unlink(path)
      }).pipe(
        Effect.catchIf(
          (e) => errnoCode(e.cause) === "ENOENT",
          () => Effect.void,
        ),
      )
    }
  })

const describe = (content: string) => {
  const owner = decodeOwner(content)
  return owner._tag === "Some"
    ? `pid ${owner.value.pid} since ${owner.value.acquired_at}`
    : "an unreadable lock file"
}

/** A lock file is stale when its owner process is gone (or it is unparseable and old). */
const isStale = (path: string, content: string) =>
  Effect.gen(function* () {
    const owner = decodeOwner(content)
    if (owner._tag === "Some") return !isSameProcessAlive(owner.value)
    const info = yield* tryFs("stat", path, () => stat(path)).pipe(Effect.option)
    return info._tag === "Some" && Date.now() - info.value.mtimeMs > UNPARSEABLE_STALE_MS
  })

/**
 * Breaks a stale lock. Breakers serialize on `<lock>.break` and re-read the lock under it, so two
 * breakers cannot both remove it (the second sees the new owner's content). A break lock whose
 * owner died is removed directly: that race needs a breaker to die inside its microsecond window.
 * Exported for tests.
 */
export const breakStale = (path: string, staleContent: string, me: string) =>
  Effect.gen(function* () {
    const breakPath = path + BREAK_SUFFIX
    if (yield* createExclusive(breakPath, me, "lock.break")) {
      yield* removeIfContent(path, staleContent, "lock.break").pipe(
        Effect.ensuring(removeIfContent(breakPath, me).pipe(Effect.ignore)),
      )
      return
    }
    const other = yield* readIfExists(breakPath)
    if (other !== undefined && (yield* isStale(breakPath, other))) {
      yield* removeIfContent(breakPath, other, "lock.break")
    }
  })

const attempt = (path: string, me: string) =>
  Effect.gen(function* () {
    if (yield* createExclusive(path, me)) return
    const content = yield* readIfExists(path)
    if (content === undefined) return yield* new LockBusy({ holder: undefined })
    if (yield* isStale(path, content)) {
      yield* breakStale(path, content, me)
      if (yield* createExclusive(path, me)) return
    }
    return yield* new LockBusy({ holder: describe(content) })
  })

const backoff = Schedule.exponential("2 millis", 1.5).pipe(
  Schedule.union(Schedule.spaced("50 millis")),
  Schedule.jittered,
)

/**
 * Acquires the cross-process lock of the task directory `dir` for the current scope (released when
 * the scope closes). Reentrant: a fiber holding it, and fibers it forks while holding it, do not
 * wait for it.
 */
export const acquireTaskLock = (
  dir: string,
  options: LockOptions = {},
): Effect.Effect<void, LockTimeout | StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const path = join(resolve(dir), options.file ?? LOCK_FILE)
    const held = yield* FiberRef.get(heldLocks)
    if (held.some((lease) => lease.active && lease.path === path)) return
    const identity = currentIdentity()
    const me = encodeOwner({
      ...identity,
      nonce: randomBytes(8).toString("hex"),
      acquired_at: new Date().toISOString(),
    })
    const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
    const lease: Lease = { path, active: true }
    // Each attempt registers its release atomically with its success; waiting between attempts
    // stays interruptible.
    yield* Effect.acquireRelease(attempt(path, me), () =>
      Effect.suspend(() => {
        lease.active = false
        return removeIfContent(path, me).pipe(Effect.ignore)
      }),
    ).pipe(
      Effect.retry({
        schedule: backoff.pipe(Schedule.upTo(Duration.millis(timeoutMs))),
        while: (e) => e._tag === "LockBusy",
      }),
      Effect.catchTag("LockBusy", (e) =>
        Effect.fail(new LockTimeout({ path, timeoutMs, holder: e.holder })),
      ),
    )
    yield* Effect.locallyScoped(heldLocks, [...held.filter((l) => l.active), lease])
  })

/** Runs `effect` while holding the lock of the task directory `dir`. */
export const withTaskLock = <A, E, R>(
  dir: string,
  effect: Effect.Effect<A, E, R>,
  options: LockOptions = {},
): Effect.Effect<A, E | LockTimeout | StoreError, R> =>
  Effect.scoped(Effect.zipRight(acquireTaskLock(dir, options), effect))
