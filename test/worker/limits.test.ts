import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import type { TaskLimits } from "../../src/domain/policy.js"
import type { FakeScript } from "../../src/testing/index.js"
import { usageIdentityOf } from "../../src/worker/usageIdentity.js"
import { CUT_OFF_PROMPT } from "../../src/worker/usageWait.js"
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
  usage,
  type World,
} from "../support/workerHarness.js"

// Issue 12 in-process: the fake codex's delays and the worker's waits all run on the TestClock.

/**
 * Waits in real time until `probe` holds, moving the TestClock 10 ms a step: a worker waiting out
 * a task lock the test held a moment (an inbox push) sleeps on that clock.
 */
const until = (what: string, probe: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if (probe()) return
      yield* TestClock.adjust(10)
      yield* realTick(3)
    }
    assert.fail(`timed out waiting for ${what}`)
  })

const startWith = (world: World, prompt: string, limits: TaskLimits) =>
  Effect.gen(function* () {
    const request = startRequest(prompt)
    assert.strictEqual(request._tag, "Start")
    const worker = yield* launch(world, {
      ...(request as Extract<typeof request, { _tag: "Start" }>),
      limits,
    })
    const answer = yield* worker.handshake
    assert.strictEqual(answer._tag, "Started", JSON.stringify(answer))
    const id = (answer as { id: string }).id
    return { ...worker, id, loc: yield* world.store.resolve(id) }
  })

const LIMIT =
  "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro) or try again in 10 minutes."
const usageLimit = (before: FakeScript["steps"] = []): FakeScript => ({
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    ...before,
    { event: { type: "error", message: LIMIT } },
    { event: { type: "turn.failed", error: { message: LIMIT } } },
  ],
  exitCode: 1,
})
const cmd = (command: string, status: string) => ({
  id: "c1",
  type: "command_execution",
  command,
  aggregated_output: "",
  status,
})
const commandRan: FakeScript["steps"] = [
  {
    event: { type: "item.started", item: cmd("make", "in_progress") },
  },
  {
    event: {
      type: "item.completed",
      item: cmd("make", "completed"),
    },
  },
]

describe("worker: usage limits", () => {
  it.scoped("waits for the reset (waiting recorded), then runs the same prompt again", () =>
    Effect.gen(function* () {
      const world = yield* setup([usageLimit(), reply("after the reset")])
      const task = yield* startWith(world, "work", { max_limit_wait_ms: 3_600_000 })
      yield* until("the wait", () => metaOf(world, task.id).waiting?.for === "usage_limit")
      const waiting = metaOf(world, task.id).waiting
      // 10 minutes from the TestClock's 0, plus at most a minute of jitter.
      const until_ = Date.parse(waiting?.until ?? "")
      assert.isAtLeast(until_, 600_000)
      assert.isAtMost(until_, 660_000)
      yield* TestClock.adjust("9 minutes")
      yield* realTick(20)
      assert.strictEqual(world.fake.requests.length, 1, "no turn before the reset")
      yield* drive(task.fiber)

      assert.deepStrictEqual(
        world.fake.requests.map((r) => [r.prompt, r.resumeThreadId]),
        [
          ["work", undefined],
          ["work", task.id],
        ],
      )
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.isUndefined(meta.waiting)
      assert.strictEqual(resultOf(world, task.id), "after the reset")
    }),
  )

  it.scoped("a cut-off turn that ran a command is resumed with a note, shown in the log", () =>
    Effect.gen(function* () {
      const world = yield* setup([usageLimit(commandRan), reply("continued")])
      const task = yield* startWith(world, "build it", {})
      yield* drive(task.fiber)
      assert.deepStrictEqual(
        world.fake.requests.map((r) => r.prompt),
        ["build it", CUT_OFF_PROMPT],
      )
      assert.deepStrictEqual(
        ofType(logOf(world, task.id), "user_message").map((e) => e.message),
        ["build it", CUT_OFF_PROMPT],
      )
    }),
  )

  it.scoped("a stop during the wait ends the task STOPPED at once, without another turn", () =>
    Effect.gen(function* () {
      const world = yield* setup([usageLimit(), reply("must not run")])
      const task = yield* startWith(world, "work", {})
      yield* world.store.inboxPush(task.loc, "queued")
      yield* until("the wait", () => metaOf(world, task.id).waiting?.for === "usage_limit")
      yield* task.stop("now")
      yield* drive(task.fiber, 1)
      assert.strictEqual(world.fake.requests.length, 1)
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "interrupted")
      assert.isUndefined(meta.waiting)
      assert.strictEqual(meta.dropped_prompts, 1)
    }),
  )

  it.scoped("past --max-limit-wait the task ends DIED with UsageLimitReached", () =>
    Effect.gen(function* () {
      const world = yield* setup([usageLimit(), reply("must not run")])
      const task = yield* startWith(world, "work", { max_limit_wait_ms: 60_000 })
      yield* drive(task.fiber)
      assert.strictEqual(world.fake.requests.length, 1)
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "DIED")
      const outcome = meta.last_outcome
      assert.strictEqual(outcome?.kind === "failed" && outcome.error_class, "UsageLimitReached")
      assert.match(
        outcome?.kind === "failed" ? outcome.message : "",
        /past --max-limit-wait \(1m\)/,
      )
    }),
  )

  it.scoped("a reset known to the store holds another task's next turn", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("one", "1 hour"), reply("two")])
      const task = yield* startWith(world, "one", {})
      const who = yield* usageIdentityOf({})
      // Another worker of the same CODEX_HOME (and account) learned of a limit resetting 20 minutes after
      // this turn ends.
      writeFileSync(
        join(world.root, ".usage-limit.json"),
        JSON.stringify({
          until: new Date(80 * 60_000).toISOString(),
          recorded_at: new Date(0).toISOString(),
          codex_home: who.codexHome,
          account: who.account,
        }),
      )
      yield* world.store.inboxPush(task.loc, "two")
      yield* TestClock.adjust("1 hour")
      yield* until("the wait", () => metaOf(world, task.id).waiting?.for === "usage_limit")
      yield* TestClock.adjust("19 minutes")
      yield* realTick(20)
      assert.strictEqual(world.fake.requests.length, 1, "held until the store's reset")
      yield* drive(task.fiber)
      assert.strictEqual(world.fake.requests.length, 2)
      assert.strictEqual(resultOf(world, task.id), "two")
    }),
  )
})

const hang: FakeScript = {
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    { delay: "10 hours" },
  ],
}
const longCommand: FakeScript = {
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    {
      event: {
        type: "item.started",
        item: cmd("sleep 300", "in_progress"),
      },
    },
    { delay: "5 minutes" },
    {
      event: {
        type: "item.completed",
        item: cmd("sleep 300", "completed"),
      },
    },
    { event: { type: "item.completed", item: { id: "m", type: "agent_message", text: "slept" } } },
    { event: { type: "turn.completed", usage } },
  ],
}

describe("worker: stall watchdog and turn timeout", () => {
  it.scoped("a silent turn is interrupted after --stall-timeout and retried as Stalled", () =>
    Effect.gen(function* () {
      const world = yield* setup([hang, reply("recovered")])
      const task = yield* startWith(world, "p", { stall_timeout_ms: 30_000 })
      yield* drive(task.fiber, "5 seconds")
      const retries = ofType(logOf(world, task.id), "retry")
      assert.deepStrictEqual(
        retries.map((e) => e.error_class),
        ["Stalled"],
      )
      assert.strictEqual(resultOf(world, task.id), "recovered")
    }),
  )

  it.scoped("a long command is not a stall", () =>
    Effect.gen(function* () {
      const world = yield* setup([longCommand])
      const task = yield* startWith(world, "p", { stall_timeout_ms: 30_000 })
      yield* drive(task.fiber, "5 seconds")
      assert.strictEqual(world.fake.requests.length, 1)
      assert.strictEqual(resultOf(world, task.id), "slept")
    }),
  )

  it.scoped("--turn-timeout ends the turn timed_out, not retried; the queue goes on", () =>
    Effect.gen(function* () {
      const world = yield* setup([longCommand, reply("next")])
      const task = yield* startWith(world, "p", { turn_timeout_ms: 60_000 })
      yield* world.store.inboxPush(task.loc, "next")
      yield* TestClock.adjust("1 minute")
      yield* until("the timeout", () => metaOf(world, task.id).last_outcome?.kind === "timed_out")
      yield* drive(task.fiber, "5 seconds")
      assert.deepStrictEqual(
        world.fake.requests.map((r) => r.prompt),
        ["p", "next"],
      )
      assert.strictEqual(resultOf(world, task.id), "next")
    }),
  )
})

describe("worker: token budget", () => {
  it.scoped("drops the queued prompts once input + output reached --max-tokens", () =>
    Effect.gen(function* () {
      // The first turn reports 110 tokens (100 in, 10 out): the budget is spent after it.
      const world = yield* setup([reply("one", "1 hour"), reply("two"), reply("three")])
      const task = yield* startWith(world, "one", { max_tokens: 110 })
      yield* world.store.inboxPush(task.loc, "two")
      yield* world.store.inboxPush(task.loc, "three")
      yield* drive(task.fiber)
      assert.strictEqual(world.fake.requests.length, 1)
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "budget_exhausted")
      assert.deepStrictEqual(
        ofType(logOf(world, task.id), "prompts_dropped").map((e) => [e.prompts, e.reason]),
        [[["two", "three"], "budget"]],
      )
    }),
  )

  it.scoped("a queued turn that spends the budget stops the queue after it, counted", () =>
    Effect.gen(function* () {
      // The thread's usage after "two" is 220 tokens: "three" must not run. A queued turn's
      // usage is written with its outcome, and the budget check must count it.
      const thread = (n: number): FakeScript => ({
        steps: [
          { event: { type: "thread.started" } },
          { event: { type: "turn.started" } },
          // the first turn lasts until "two" and "three" are queued
          ...(n === 1 ? [{ delay: "1 hour" as const }] : []),
          {
            event: {
              type: "item.completed",
              item: { id: "i0", type: "agent_message", text: `t${n}` },
            },
          },
          {
            event: {
              type: "turn.completed",
              usage: { ...usage, input_tokens: 100 * n, output_tokens: 10 * n },
            },
          },
        ],
      })
      const world = yield* setup([thread(1), thread(2), thread(3)])
      const task = yield* startWith(world, "one", { max_tokens: 220 })
      yield* world.store.inboxPush(task.loc, "two")
      yield* world.store.inboxPush(task.loc, "three")
      yield* drive(task.fiber)
      assert.strictEqual(world.fake.requests.length, 2, "three did not run")
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.turns, 2)
      assert.strictEqual(meta.usage?.input_tokens, 200)
      assert.strictEqual(meta.last_result, "t2")
      assert.strictEqual(meta.last_outcome?.kind, "budget_exhausted")
      assert.deepStrictEqual(
        ofType(logOf(world, task.id), "prompts_dropped").map((e) => [e.prompts, e.reason]),
        [[["three"], "budget"]],
      )
    }),
  )
})
