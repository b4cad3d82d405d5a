import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Clock, type Duration, Effect, Random, TestClock } from "effect"
import type { TaskLimits } from "../../src/domain/policy.js"
import type { FakeScript } from "../../src/testing/index.js"
import { WAIT_CHUNK_MS } from "../../src/worker/usageWait.js"
import {
  drive,
  launch,
  logOf,
  metaOf,
  ofType,
  realTick,
  reply,
  resultOf,
  setup,
  startRequest,
  type World,
} from "../support/workerHarness.js"

// Issue 20 (§2.1, §2.3): the store's usage-limit record, and the usage-limit wait itself, with
// the worker in-process on the fake codex and the TestClock (which starts at 0: the epoch).

const MIN = 60_000
const HOUR = 60 * MIN

/** Waits in real time until `probe` holds, moving the TestClock 10 ms a step. */
const until = (what: string, probe: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if (probe()) return
      yield* TestClock.adjust(10)
      yield* realTick(3)
    }
    assert.fail(`timed out waiting for ${what}`)
  })

/** A world whose tasks run codex with their own CODEX_HOME (`<root>/../home`). */
const homeOf = (world: World) => {
  const home = join(world.root, "..", "home")
  mkdirSync(home, { recursive: true })
  return home
}

const startWith = (world: World, prompt: string, limits: TaskLimits) =>
  Effect.gen(function* () {
    const request = startRequest(prompt) as Extract<
      ReturnType<typeof startRequest>,
      { _tag: "Start" }
    >
    const worker = yield* launch(world, {
      ...request,
      options: { ...request.options, configFile: join(homeOf(world), "config.toml") },
      limits,
    })
    const answer = yield* worker.handshake
    assert.strictEqual(answer._tag, "Started", JSON.stringify(answer))
    const id = (answer as { id: string }).id
    return { ...worker, id, loc: yield* world.store.resolve(id) }
  })

/** Writes the store's usage-limit record (by default: this world's CODEX_HOME, no account). */
const writeRecord = (world: World, fields: Record<string, unknown>) =>
  writeFileSync(
    join(world.root, ".usage-limit.json"),
    JSON.stringify({
      recorded_at: new Date(0).toISOString(),
      codex_home: homeOf(world),
      ...fields,
    }),
  )

const limitHit = (message: string): FakeScript => ({
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    { event: { type: "error", message } },
    { event: { type: "turn.failed", error: { message } } },
  ],
  exitCode: 1,
})
const inHours = (h: number) =>
  limitHit(`You’ve hit your usage limit. Upgrade to Pro or try again in ${h} hours.`)

const heldNotes = (world: World, id: string) =>
  ofType(logOf(world, id), "worker").filter((e) =>
    String(e.message).startsWith("another task hit the usage limit"),
  )

describe("worker: the store's usage-limit record", () => {
  it.scoped("a reset past --max-limit-wait fails the next prompt visibly and drops the queue", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("one", "1 hour"), reply("must not run")])
      const task = yield* startWith(world, "one", { max_limit_wait_ms: 12 * HOUR })
      writeRecord(world, { until: new Date(3 * 24 * HOUR).toISOString() })
      yield* world.store.inboxPush(task.loc, "two")
      yield* world.store.inboxPush(task.loc, "three")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1, "no turn ran")
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "DIED")
      const outcome = meta.last_outcome
      assert.strictEqual(outcome?.kind === "failed" && outcome.error_class, "UsageLimitReached")
      assert.match(
        outcome?.kind === "failed" ? outcome.message : "",
        /resets at 1970-01-04T00:00:00\.000Z.*past --max-limit-wait \(12h\)/,
      )
      assert.deepStrictEqual(
        ofType(logOf(world, task.id), "prompts_dropped").map((e) => e.prompts),
        [["two"], ["three"]],
      )
      assert.strictEqual(meta.dropped_prompts, 2)
      assert.strictEqual(resultOf(world, task.id), "one", "the previous answer stays the last")
    }),
  )

  const untrusted: ReadonlyArray<[string, Record<string, unknown>]> = [
    ["another CODEX_HOME", { codex_home: "/elsewhere/.codex" }],
    ["another account", { account: "0123456789abcdef" }],
    ["an older version (no identity)", { codex_home: undefined }],
    ["the future", { recorded_at: new Date(2 * HOUR).toISOString() }],
    ["a reset a month away", { until: new Date(30 * 24 * HOUR).toISOString() }],
  ]
  for (const [what, fields] of untrusted) {
    it.scoped(`a record of ${what} does not hold the turn`, () =>
      Effect.gen(function* () {
        const world = yield* setup([reply("one", "1 hour"), reply("two")])
        const task = yield* startWith(world, "one", { max_limit_wait_ms: 40 * 24 * HOUR })
        writeRecord(world, { until: new Date(3 * HOUR).toISOString(), ...fields })
        yield* world.store.inboxPush(task.loc, "two")
        yield* TestClock.adjust("1 hour")
        yield* until("the second turn", () => world.fake.requests.length === 2)
        yield* drive(task.fiber, "1 second")
        assert.deepStrictEqual(heldNotes(world, task.id), [])
        assert.strictEqual(resultOf(world, task.id), "two")
      }),
    )
  }
})

/**
 * The TestClock's wall time plus `offset.ms`, its sleeps unchanged: a suspended machine, whose
 * wall clock goes on while monotonic timers stand still.
 */
const suspendable = (offset: { ms: number }) =>
  Effect.map(TestClock.testClock(), (test): Clock.Clock => {
    const millis = () => test.unsafeCurrentTimeMillis() + offset.ms
    return {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: millis,
      currentTimeMillis: Effect.sync(millis),
      unsafeCurrentTimeNanos: () => BigInt(millis()) * 1_000_000n,
      currentTimeNanos: Effect.sync(() => BigInt(millis()) * 1_000_000n),
      sleep: (d: Duration.Duration) => test.sleep(d),
    }
  })

describe("worker: the usage-limit wait", () => {
  it.scoped("ends at its wall-clock time after a suspend", () =>
    Effect.gen(function* () {
      const offset = { ms: 0 }
      const clock = yield* suspendable(offset)
      const world = yield* setup([inHours(3), reply("after the reset")])
      // The worker (forked here) runs on the suspendable clock; the test moves the TestClock.
      const task = yield* startWith(world, "work", { max_limit_wait_ms: 12 * HOUR }).pipe(
        Effect.withClock(clock),
      )
      yield* until("the wait", () => metaOf(world, task.id).waiting?.for === "usage_limit")
      // The machine sleeps through the reset: 4 hours of wall time, none of the timers'.
      offset.ms += 4 * HOUR
      yield* TestClock.adjust(WAIT_CHUNK_MS)
      yield* until("the turn after the reset", () => world.fake.requests.length === 2)
      yield* drive(task.fiber, "1 second")
      assert.strictEqual(resultOf(world, task.id), "after the reset")
    }),
  )

  it.scoped("sleeps a minute at a time, never once for a 25-day wait (Node's timers cap)", () =>
    Effect.gen(function* () {
      const world = yield* setup([inHours(600), reply("late")])
      const task = yield* startWith(world, "work", { max_limit_wait_ms: 40 * 24 * HOUR })
      yield* until("the wait", () => metaOf(world, task.id).waiting?.for === "usage_limit")
      yield* realTick(20)
      const now = yield* Clock.currentTimeMillis
      const sleeps = yield* TestClock.sleeps()
      assert.isAbove(sleeps.length, 0)
      for (const at of sleeps) assert.isAtMost(at - now, WAIT_CHUNK_MS)
      yield* task.stop("now")
      yield* drive(task.fiber, "1 second")
    }),
  )

  it.scoped("waiters wake spread over up to a minute after the reset, not all at once", () =>
    Effect.gen(function* () {
      const wakes: Array<number> = []
      for (const random of [0, 0.5, 0.99]) {
        const world = yield* setup([inHours(1), reply("ok")])
        const task = yield* startWith(world, "work", { max_limit_wait_ms: 12 * HOUR }).pipe(
          Effect.withRandom(Random.fixed([random])),
        )
        yield* until("the wait", () => metaOf(world, task.id).waiting?.for === "usage_limit")
        const now = yield* Clock.currentTimeMillis
        // The reset is an hour after the turn failed (at about `now`: the clock moved 10 ms steps).
        wakes.push(Date.parse(metaOf(world, task.id).waiting?.until ?? "") - now - HOUR)
        yield* task.stop("now")
        yield* drive(task.fiber, "1 second")
      }
      const [first, middle, last] = wakes as [number, number, number]
      assert.isAtMost(first, 1_000)
      assert.approximately(middle, 30_000, 1_000)
      assert.isAtLeast(last, 58_000)
      assert.isAtMost(last, 60_000)
    }),
  )
})
