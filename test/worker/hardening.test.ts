import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, type Duration, Effect, Fiber, Option, TestClock } from "effect"
import { currentIdentity as currentProcessIdentity } from "../../src/processes/procfs.js"
import { acquireTaskLock } from "../../src/store/lock.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import type { FakeScript } from "../../src/testing/index.js"
import {
  drive,
  launch,
  logOf,
  metaOf,
  ofType,
  realTick,
  reply,
  resultOf,
  resumeRequest,
  setup,
  startTask,
  until,
} from "../support/workerHarness.js"

// Failure paths of the worker (issue 10): what a user finds after a crash, a fatal error, a busy
// lock or a broken disk must still tell the truth and lose no prompt.

/** A turn that runs for `delay` on the TestClock and then fails with codex's `message`. */
const failsAfter = (message: string, delay: Duration.DurationInput = "1 hour"): FakeScript => ({
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    { delay },
    { event: { type: "error", message } },
    { event: { type: "turn.failed", error: { message } } },
  ],
  exitCode: 1,
})

describe("worker hardening", () => {
  it.scoped("a new task's worker is recorded before its task.json exists", () =>
    Effect.gen(function* () {
      const seen: Array<boolean> = []
      const world = yield* setup([reply("hi")], (store) =>
        TaskStore.make({
          ...store,
          writeWorker: (loc, identity) =>
            Effect.suspend(() => {
              seen.push(existsSync(join(loc.dir, "task.json")))
              return store.writeWorker(loc, identity)
            }),
        }),
      )
      const task = yield* startTask(world, "hello")
      yield* drive(task.fiber)
      assert.deepStrictEqual(seen, [false], "worker.json is written while task.json is absent")
      assert.strictEqual(metaOf(world, task.id).state, "STOPPED")
    }),
  )

  it.scoped("a fatal failure ends the task DIED and no queued prompt reaches codex", () =>
    Effect.gen(function* () {
      const world = yield* setup([
        failsAfter("unexpected status 401 Unauthorized: invalid_api_key"),
        reply("must not run"),
      ])
      const task = yield* startTask(world, "first")
      yield* world.store.inboxPush(task.loc, "queued one")
      yield* world.store.inboxPush(task.loc, "queued two")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1, "no queued prompt was sent to codex")
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "DIED")
      assert.strictEqual(meta.last_outcome?.error_class, "AuthenticationFailed")
      assert.strictEqual(meta.dropped_prompts, 2)
      const dropped = ofType(logOf(world, task.id), "prompts_dropped")
      assert.deepStrictEqual(
        dropped.map((e) => e.prompts),
        [["queued one", "queued two"]],
      )
      assert.include(String(dropped[0]?.reason), "AuthenticationFailed")
      assert.deepStrictEqual(yield* world.store.inboxPending(task.loc), [])
    }),
  )

  it.scoped("the DIED reason is recorded even when the log cannot be written", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("never", "1 hour")])
      const task = yield* startTask(world, "long")
      // task.log becomes unwritable (a directory in its place): the next line cannot be logged.
      const log = join(task.loc.dir, "task.log")
      rmSync(log)
      mkdirSync(log)
      yield* drive(task.fiber)

      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "DIED")
      assert.strictEqual(meta.last_outcome?.error_class, "WorkerFailed")
      assert.include(meta.last_outcome?.message, "task.log")
      assert.isFalse(existsSync(join(task.loc.dir, "worker.json")), "worker record cleared")
    }),
  )

  it.scoped("a task lock held longer than one acquisition waits is waited out", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("done", "1 hour")])
      const task = yield* startTask(world, "long")
      const release = yield* Deferred.make<void>()
      const held = yield* Deferred.make<void>()
      // Another holder (not a parent of the worker's fiber) keeps the lock for 40 s.
      yield* Effect.forkScoped(
        Effect.scoped(
          Effect.gen(function* () {
            yield* acquireTaskLock(task.loc.dir)
            yield* Deferred.succeed(held, undefined)
            yield* Deferred.await(release)
          }),
        ),
      )
      yield* Deferred.await(held)
      yield* TestClock.adjust("1 hour") // the turn ends: the worker needs the lock to record it
      for (let s = 0; s < 40; s++) {
        yield* TestClock.adjust("1 second")
        yield* realTick(5)
      }
      yield* Deferred.succeed(release, undefined)
      yield* drive(task.fiber, "1 second")

      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "completed")
      assert.strictEqual(resultOf(world, task.id), "done")
    }),
  )

  it.scoped("a prompt whose worker died mid-turn is recorded as dropped, never run twice", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("first", "1 minute"), reply("never finishes", "1 hour")])
      const task = yield* startTask(world, "one")
      yield* world.store.inboxPush(task.loc, "the interrupted one")
      yield* TestClock.adjust("1 minute")
      yield* until("the second turn", () => world.fake.requests.length === 2)
      yield* realTick(20)
      // While its turn runs, the prompt is on disk (in flight), no longer queued.
      assert.deepStrictEqual(yield* world.store.inboxPending(task.loc), [])
      assert.isTrue(
        readdirSync(join(task.loc.dir, "inbox")).some((n) => n.endsWith(".inflight")),
        "the prompt in flight is kept until its turn is recorded",
      )
      // The worker is lost (as if SIGKILLed): nothing records the turn's end.
      yield* Fiber.interrupt(task.fiber)
      rmSync(join(task.loc.dir, "worker.json"))

      yield* world.store.inboxPush(task.loc, "next")
      const resumed = yield* launch(world, resumeRequest(task.id))
      yield* drive(resumed.fiber)
      const log = logOf(world, task.id)
      const dropped = ofType(log, "prompts_dropped")
      assert.deepStrictEqual(
        dropped.map((e) => e.prompts),
        [["the interrupted one"]],
      )
      assert.include(String(dropped[0]?.reason), "worker was lost")
      assert.deepStrictEqual(
        world.fake.requests.map((r) => r.prompt),
        ["one", "the interrupted one", "next"],
        "the interrupted prompt is not sent again",
      )
      assert.isFalse(readdirSync(join(task.loc.dir, "inbox")).some((n) => n.endsWith(".inflight")))
    }),
  )

  it.scoped("an inbox number is never handed out again after a lost counter", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("a")])
      const task = yield* startTask(world, "one")
      yield* drive(task.fiber)
      const first = yield* world.store.inboxPush(task.loc, "two")
      yield* drive((yield* launch(world, resumeRequest(task.id))).fiber)
      assert.strictEqual(metaOf(world, task.id).inbox_done_seq, first.seq)
      // A crash lost the counter's last update: the next number must still be new.
      writeFileSync(join(task.loc.dir, "inbox", ".seq"), "0\n")
      const next = yield* world.store.inboxPush(task.loc, "three")
      assert.isAbove(next.seq, first.seq)
    }),
  )

  it.scoped("scratch files of killed workers are swept, a live worker's are kept", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("a"), reply("b")])
      const task = yield* startTask(world, "one")
      yield* drive(task.fiber)
      const tmp = join(world.root, ".tmp")
      const dead = { pid: 2 ** 22 + 12_345, start_time: "1", boot_id: "x" }
      const me = currentProcessIdentity()
      mkdirSync(join(tmp, "dead-start"), { recursive: true })
      writeFileSync(join(tmp, "dead-start", "worker.json"), JSON.stringify(dead))
      mkdirSync(join(tmp, "live-start"), { recursive: true })
      writeFileSync(
        join(tmp, "live-start", "worker.json"),
        JSON.stringify({ pid: me.pid, start_time: me.startTime, boot_id: me.bootId }),
      )
      writeFileSync(join(task.loc.dir, ".result.stale.tmp"), "half an answer")

      yield* world.store.inboxPush(task.loc, "two")
      yield* drive((yield* launch(world, resumeRequest(task.id))).fiber)
      assert.deepStrictEqual(readdirSync(tmp).sort(), ["live-start"])
      assert.isFalse(existsSync(join(task.loc.dir, ".result.stale.tmp")))
      assert.strictEqual(resultOf(world, task.id), "b")
    }),
  )

  it.scoped("a prompt taken while task.json cannot be updated stays on disk", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("a")])
      const task = yield* startTask(world, "one")
      yield* drive(task.fiber)
      yield* world.store.inboxPush(task.loc, "precious")
      const json = join(task.loc.dir, "task.json")
      const saved = Option.getOrThrow(Option.some(readdirSync(task.loc.dir)))
      assert.include(saved, "task.json")
      rmSync(json)
      mkdirSync(json) // unreadable and unwritable for the update that follows the take
      const failed = yield* Effect.either(world.store.inboxTake(task.loc))
      assert.strictEqual(failed._tag, "Left")
      rmSync(json, { recursive: true })
      const onDisk = [
        ...(yield* world.store.inboxPending(task.loc)).map((e) => e.prompt),
        ...readdirSync(join(task.loc.dir, "inbox")).filter((n) => n.endsWith(".inflight")),
      ]
      assert.strictEqual(onDisk.length, 1, "the prompt is still queued or in flight")
    }),
  )
})
