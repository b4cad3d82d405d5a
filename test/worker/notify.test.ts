import { spawnSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { runCommand } from "../../src/worker/onFinish.js"
import { deliverWebhook, type PostFn, WebhookFailed } from "../../src/worker/webhook.js"
import { until } from "../support/workerHarness.js"

// The pieces of the end-of-task notifications (issue 12, item 5) that depend on time: the
// webhook's retries for up to a minute and the --on-finish command's 60 s limit.

/** A receiver that answers `statuses` in turn (a thrown string = connection refused), recording calls. */
const receiver = (statuses: ReadonlyArray<number | "refused">) => {
  const calls: Array<string> = []
  const post: PostFn = (_url, body) =>
    Effect.suspend(() => {
      calls.push(body)
      const next = statuses[Math.min(calls.length - 1, statuses.length - 1)]!
      return next === "refused"
        ? Effect.fail(new WebhookFailed({ message: "connect ECONNREFUSED", final: false }))
        : Effect.succeed(next)
    })
  return { calls, post }
}

describe("deliverWebhook", () => {
  it.effect("retries a failing receiver with backoff until it answers 2xx", () =>
    Effect.gen(function* () {
      const r = receiver(["refused", 503, 204])
      const fiber = yield* Effect.fork(deliverWebhook("http://x/hook", "{}", r.post))
      yield* TestClock.adjust(Duration.seconds(10))
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, { ok: true, attempts: 3, status: 204, message: "HTTP 204" })
    }),
  )

  it.effect("gives up after about a minute, reporting the last failure", () =>
    Effect.gen(function* () {
      const r = receiver(["refused"])
      const fiber = yield* Effect.fork(deliverWebhook("http://x/hook", "{}", r.post))
      yield* TestClock.adjust(Duration.seconds(30))
      assert.isNull(fiber.unsafePoll(), "still retrying after 30 s")
      yield* TestClock.adjust(Duration.minutes(2))
      const result = yield* Fiber.join(fiber)
      assert.isFalse(result.ok)
      assert.strictEqual(result.message, "connect ECONNREFUSED")
      // 1 s, doubling (jittered): a handful of attempts in a minute, not hundreds.
      assert.isAtLeast(result.attempts, 4)
      assert.isAtMost(result.attempts, 9)
    }),
  )

  it.effect("does not retry a 4xx refusal", () =>
    Effect.gen(function* () {
      const r = receiver([404])
      const result = yield* deliverWebhook("http://x/hook", "{}", r.post)
      assert.deepStrictEqual(result, { ok: false, attempts: 1, status: 404, message: "HTTP 404" })
    }),
  )
})

describe("runCommand (--on-finish)", () => {
  it.effect("records the exit code and output, the task only in the environment", () =>
    Effect.gen(function* () {
      const r = yield* runCommand('echo "id=$ID"; echo oops >&2; exit 4', process.cwd(), {
        ...process.env,
        ID: "$(echo injected)",
      })
      assert.strictEqual(r.exitCode, 4)
      assert.isFalse(r.timedOut)
      assert.include(r.output, "id=$(echo injected)")
      assert.include(r.output, "oops")
    }),
  )

  it.effect(
    "ends when sh exits: a job it put in the background holding stdout keeps no one waiting",
    () =>
      Effect.gen(function* () {
        const marker = `sleep 30.${process.pid}${Date.now() % 1000}`
        const running = () => spawnSync("pgrep", ["-f", marker], { encoding: "utf8" }).stdout.trim()
        // The background sleep inherits stdout: before, the command ended only at its EOF (30 s
        // later, or at the 60 s limit); the test clock never moves here.
        const r = yield* runCommand(
          `echo started; ${marker} & echo "bg $!"`,
          process.cwd(),
          process.env,
        )
        assert.strictEqual(r.exitCode, 0)
        assert.isFalse(r.timedOut)
        assert.include(r.output, "started")
        const bg = Number(/bg (\d+)/.exec(r.output)?.[1])
        assert.isAbove(bg, 0)
        // The job the user put in the background runs on.
        assert.notStrictEqual(running(), "")
        process.kill(bg, "SIGKILL")
      }),
  )

  it.effect("kills the command's process group after 60 s", () =>
    Effect.gen(function* () {
      const marker = `sleep 300.${process.pid}${Date.now() % 1000}`
      const running = () => spawnSync("pgrep", ["-f", marker], { encoding: "utf8" }).stdout.trim()
      const fiber = yield* Effect.fork(runCommand(`${marker} & wait`, process.cwd(), process.env))
      yield* until("the command's sleep", () => running() !== "")
      yield* TestClock.adjust(Duration.seconds(59))
      assert.isNull(fiber.unsafePoll(), "still running at 59 s")
      yield* TestClock.adjust(Duration.seconds(1))
      const r = yield* Fiber.join(fiber)
      assert.isTrue(r.timedOut)
      yield* until("the group's sleep to be gone", () => running() === "")
    }),
  )
})
