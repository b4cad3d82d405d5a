import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { identityOf as processIdentity } from "../../src/processes/procfs.js"
import { acquireTaskLock, breakStale, LOCK_FILE, withTaskLock } from "../../src/store/lock.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-lock-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const sleeper = Effect.acquireRelease(
  Effect.sync(() => spawn("sleep", ["30"], { stdio: "ignore" })),
  (child) => Effect.promise(() => stopChild(child)),
)

const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, "exit")
  child.kill("SIGKILL")
  await exited
}

/** A lock file as another owner would have written it. */
const writeLockFile = (dir: string, owner: { pid: number; start_time: string }) =>
  Effect.promise(() =>
    writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ ...owner, nonce: "other", acquired_at: new Date().toISOString() }),
    ),
  )

/** Runs `n` critical sections concurrently and reports whether any two overlapped. */
const contend = (dir: string, n: number, holdMs: number) =>
  Effect.gen(function* () {
    let inside = 0
    let maxInside = 0
    let entered = 0
    yield* Effect.forEach(
      Array.from({ length: n }),
      () =>
        withTaskLock(
          dir,
          Effect.gen(function* () {
            inside++
            entered++
            maxInside = Math.max(maxInside, inside)
            yield* Effect.sleep(holdMs)
            inside--
          }),
        ),
      { concurrency: "unbounded" },
    )
    return { maxInside, entered }
  })

describe("task lock", () => {
  it.scopedLive("serializes concurrent holders and removes the lock file afterwards", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const result = yield* contend(dir, 8, 20)
      assert.deepStrictEqual(result, { maxInside: 1, entered: 8 })
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
    }),
  )

  it.scopedLive("releases the lock when the protected effect fails", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const failed = yield* Effect.flip(withTaskLock(dir, Effect.fail("boom" as const)))
      assert.strictEqual(failed, "boom")
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
      yield* withTaskLock(dir, Effect.void, { timeoutMs: 200 })
    }),
  )

  it.scopedLive("is reentrant within a fiber", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const value = yield* withTaskLock(
        dir,
        withTaskLock(dir, Effect.succeed(42), { timeoutMs: 200 }),
        { timeoutMs: 200 },
      )
      assert.strictEqual(value, 42)
    }),
  )

  it.scopedLive("waits for a lock held by another live process, then times out naming it", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const child = yield* sleeper
      const identity = processIdentity(child.pid!)!
      yield* writeLockFile(dir, { pid: identity.pid, start_time: identity.startTime })
      const started = Date.now()
      const error = yield* Effect.flip(withTaskLock(dir, Effect.void, { timeoutMs: 300 }))
      assert.strictEqual(error._tag, "LockTimeout")
      assert.isAtLeast(Date.now() - started, 290)
      assert.include(error.message, `pid ${identity.pid}`)
      // Once the holder is gone its lock is stale and is broken.
      yield* Effect.promise(() => stopChild(child))
      yield* withTaskLock(dir, Effect.void, { timeoutMs: 1000 })
    }),
  )

  it.scopedLive("breaks a stale lock left by a dead process", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const child = spawn("sleep", ["0.1"], { stdio: "ignore" })
      const identity = processIdentity(child.pid!)!
      yield* Effect.promise(() => once(child, "exit"))
      yield* writeLockFile(dir, { pid: identity.pid, start_time: identity.startTime })
      yield* withTaskLock(dir, Effect.void, { timeoutMs: 1000 })
    }),
  )

  it.scopedLive("treats a lock naming a live pid with another start time as stale", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeLockFile(dir, { pid: process.pid, start_time: "1" })
      yield* withTaskLock(dir, Effect.void, { timeoutMs: 1000 })
    }),
  )

  it.scopedLive("lets exactly one of many concurrent breakers of a stale lock in at a time", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeLockFile(dir, { pid: process.pid, start_time: "1" })
      const result = yield* contend(dir, 12, 10)
      assert.deepStrictEqual(result, { maxInside: 1, entered: 12 })
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
    }),
  )

  it.scopedLive("never removes a lock that changed hands after it was judged stale", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, LOCK_FILE)
      const stale = JSON.stringify({
        pid: process.pid,
        start_time: "1",
        nonce: "a",
        acquired_at: "",
      })
      // Another contender broke the stale lock and took it before this breaker got to act.
      yield* withTaskLock(
        dir,
        Effect.gen(function* () {
          const live = yield* Effect.promise(() => readFile(path, "utf8"))
          yield* breakStale(path, stale, "breaker")
          assert.strictEqual(yield* Effect.promise(() => readFile(path, "utf8")), live)
          assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [LOCK_FILE])
        }),
      )
    }),
  )

  it.scopedLive("holds the lock for the rest of the scope with acquireTaskLock", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      // A separate runtime shares nothing with this fiber: like another process.
      const fromElsewhere = (timeoutMs: number) =>
        Effect.promise(() =>
          Effect.runPromise(Effect.either(withTaskLock(dir, Effect.void, { timeoutMs }))),
        )
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* acquireTaskLock(dir)
          const other = yield* fromElsewhere(150)
          assert.isTrue(other._tag === "Left" && other.left._tag === "LockTimeout")
        }),
      )
      assert.strictEqual((yield* fromElsewhere(150))._tag, "Right")
    }),
  )

  it.scopedLive("shares the lock with fibers forked inside the critical section", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const inner = withTaskLock(dir, Effect.succeed(1), { timeoutMs: 300 })
      const results = yield* withTaskLock(dir, Effect.all([inner, inner], { concurrency: 2 }), {
        timeoutMs: 300,
      })
      assert.deepStrictEqual(results, [1, 1])
    }),
  )

  it.scopedLive(
    "makes a forked fiber that outlives the critical section take the lock itself",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const go = yield* Deferred.make<void>()
        const child = yield* withTaskLock(
          dir,
          Effect.forkDaemon(
            Deferred.await(go).pipe(
              Effect.zipRight(
                withTaskLock(
                  dir,
                  Effect.promise(() => readdir(dir)),
                ),
              ),
            ),
          ),
        )
        assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
        yield* Deferred.succeed(go, undefined)
        assert.deepStrictEqual(yield* Fiber.join(child), [LOCK_FILE])
      }),
  )
})
