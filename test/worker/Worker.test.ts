import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Random, Schedule, TestClock } from "effect"
import { TransientFailure } from "../../src/domain/errors.js"
import { retrySchedule } from "../../src/domain/retryPolicy.js"
import type { TaskMeta } from "../../src/domain/task.js"
import type { TaskLocation } from "../../src/store/TaskStore.js"
import { type FakeScript, FakeScripts } from "../../src/testing/index.js"
import { AttemptFailed } from "../../src/worker/attempt.js"
import { finalState } from "../../src/worker/rules.js"
import {
  drive,
  filesBelow,
  launch,
  logOf,
  metaOf,
  ofType,
  policy,
  realTick,
  reply,
  resultOf,
  resumeRequest,
  setup,
  startRequest,
  startTask,
  strayResults,
  transient,
  until,
  usage,
} from "../support/workerHarness.js"

const noEvidence = { exitCode: 1, signal: null, stderrTail: [], lastEvents: [] }

describe("worker: the first invocation", () => {
  it.scoped("writes nothing before thread.started, then replays the buffer in order", () =>
    Effect.gen(function* () {
      const world = yield* setup([
        {
          steps: [
            { stderr: "WARNING: warming up" },
            { line: "not json at all" },
            { delay: "1 second" },
            { event: { type: "thread.started" } },
            { event: { type: "turn.started" } },
            { stderr: "after the thread" },
            { event: { type: "item.completed", item: { type: "agent_message", text: "hi" } } },
            { event: { type: "turn.completed", usage } },
          ],
        },
      ])
      const worker = yield* launch(world, startRequest("Say hi."))
      yield* until("codex to run", () => world.fake.requests.length === 1)
      yield* realTick(50)
      // Only the start's own scratch directory (its owner record) may exist: no task yet.
      assert.deepStrictEqual(
        filesBelow(world.root).filter((f) => !f.startsWith(".tmp/")),
        [],
        "nothing on disk before thread.started",
      )

      yield* TestClock.adjust("1 second")
      const answer = yield* worker.handshake
      yield* drive(worker.fiber)

      assert.strictEqual(answer._tag, "Started")
      const id = (answer as { id: string }).id
      const lines = readFileSync(join(world.root, id, "task.log"), "utf8").split("\n")
      assert.deepStrictEqual(
        lines.slice(1),
        [
          JSON.stringify({ type: "stderr", message: "WARNING: warming up" }),
          "not json at all",
          JSON.stringify({ type: "thread.started", thread_id: id }),
          JSON.stringify({ type: "turn.started" }),
          JSON.stringify({ type: "stderr", message: "after the thread" }),
          JSON.stringify({
            type: "item.completed",
            item: { type: "agent_message", text: "hi" },
          }),
          JSON.stringify({ type: "turn.completed", usage }),
          "",
        ],
        "codex's lines byte for byte, in arrival order",
      )
      const first = JSON.parse(lines[0] ?? "")
      assert.strictEqual(first.type, "user_message")
      assert.strictEqual(first.message, "Say hi.")
      const meta = metaOf(world, id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.title, "worker test")
      assert.strictEqual(meta.initial_prompt, "Say hi.")
      assert.strictEqual(meta.turns, 1)
      assert.deepStrictEqual(meta.usage, {
        ...usage,
        cache_write_input_tokens: 0,
      } as unknown as TaskMeta["usage"])
      assert.strictEqual(resultOf(world, id), "hi")
      assert.isFalse(existsSync(join(world.root, id, "worker.json")), "worker record cleared")
      assert.deepStrictEqual(strayResults(world), [])
    }),
  )

  // The id is reported only once task.log holds the buffered lines (`start … && log <id>`).
  it.scoped("has the buffered lines in task.log when it reports the id", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("hi")])
      let seen: ReadonlyArray<Record<string, unknown>> = []
      const worker = yield* launch(world, startRequest("Say hi."), (h) => {
        if (h._tag === "Started") seen = logOf(world, h.id)
      })
      yield* drive(worker.fiber)

      // Lines that arrived with thread.started may be there too (they are appended together).
      assert.deepStrictEqual(
        seen.slice(0, 2).map((e) => e.type),
        ["user_message", "thread.started"],
      )
    }),
  )

  it.scoped.each([
    [
      "codex's refusal",
      FakeScripts.failBeforeThread(
        "Not inside a trusted directory and --skip-git-repo-check was not specified.",
      ),
      "UntrustedDirectory",
      "Not inside a trusted directory",
    ],
    [
      "a silent exit",
      { steps: [{ line: "garbage" }], exitCode: 1 },
      "MissingThreadStarted",
      "without starting a thread",
    ],
    [
      "a missing binary",
      { steps: [], spawnError: "ENOENT" },
      "CodexNotFound",
      "codex executable was not found",
    ],
  ] as const)(
    "answers Failed with the reason and leaves no files after %s",
    ([, script, errorTag, text]) =>
      Effect.gen(function* () {
        const world = yield* setup([script])
        const worker = yield* launch(world, startRequest("Hello."))
        yield* drive(worker.fiber)
        const answer = yield* worker.handshake

        assert.strictEqual(answer._tag, "Failed")
        assert.strictEqual((answer as { errorTag: string }).errorTag, errorTag)
        assert.include((answer as { message: string }).message, text)
        assert.deepStrictEqual(filesBelow(world.root), [])
        assert.deepStrictEqual(
          existsSync(world.root) ? readdirSync(world.root).filter((n) => !n.startsWith(".")) : [],
          [],
          "no task directory",
        )
      }),
  )
})

describe("worker: the prompt queue", () => {
  it.scoped("runs prompts queued during a turn in order, each once, on the same thread", () =>
    Effect.gen(function* () {
      const world = yield* setup([
        reply("first", "1 hour"),
        reply("second"),
        reply("third"),
        reply("fourth"),
      ])
      const task = yield* startTask(world, "p0")
      const receipts = []
      for (const prompt of ["p1", "p2", "p3"])
        receipts.push(yield* world.store.inboxPush(task.loc, prompt))
      yield* drive(task.fiber)

      assert.deepStrictEqual(
        receipts.map((r) => r.position),
        [1, 2, 3],
      )
      assert.deepStrictEqual(
        world.fake.requests.map((r) => [r.prompt, r.resumeThreadId]),
        [
          ["p0", undefined],
          ["p1", task.id],
          ["p2", task.id],
          ["p3", task.id],
        ],
      )
      const log = logOf(world, task.id)
      assert.deepStrictEqual(
        ofType(log, "user_message").map((e) => e.message),
        ["p0", "p1", "p2", "p3"],
      )
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.turns, 4)
      assert.strictEqual(meta.last_prompt, "p3")
      assert.strictEqual(resultOf(world, task.id), "fourth")
      assert.deepStrictEqual(yield* world.store.inboxPending(task.loc), [])
    }),
  )

  it.scoped("a resume worker runs the inbox of a stopped task", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("one"), reply("two")])
      const task = yield* startTask(world, "first")
      yield* drive(task.fiber)
      yield* world.store.inboxPush(task.loc, "second")

      const resumed = yield* launch(world, resumeRequest(task.id))
      yield* drive(resumed.fiber)

      assert.deepStrictEqual(yield* resumed.handshake, { _tag: "Accepted", id: task.id })
      assert.deepStrictEqual(
        world.fake.requests.map((r) => [r.prompt, r.resumeThreadId]),
        [
          ["first", undefined],
          ["second", task.id],
        ],
      )
      assert.strictEqual(metaOf(world, task.id).state, "STOPPED")
      assert.strictEqual(metaOf(world, task.id).turns, 2)
    }),
  )
})

describe("worker: retries", () => {
  it.scoped("retries a transient failure with growing backoff, then completes", () =>
    Effect.gen(function* () {
      const world = yield* setup([transient(), transient(), reply("done")])
      const task = yield* startTask(world, "flaky")
      const retries = () => ofType(logOf(world, task.id), "retry")

      yield* until("the first retry entry", () => retries().length === 1)
      const first = Number(retries()[0]?.delay_ms)
      assert.isAtLeast(first, 500)
      assert.isAtMost(first, 1_500)
      yield* TestClock.adjust(first - 1)
      yield* realTick(30)
      assert.strictEqual(world.fake.requests.length, 1, "no new attempt before the backoff ends")
      yield* TestClock.adjust(1)
      yield* until("the second retry entry", () => retries().length === 2)
      const second = Number(retries()[1]?.delay_ms)
      assert.isAtLeast(second, 1_000)
      assert.isAtMost(second, 3_000)
      yield* drive(task.fiber, "100 millis")

      assert.strictEqual(world.fake.requests.length, 3)
      assert.deepStrictEqual(
        world.fake.requests.map((r) => [r.prompt, r.resumeThreadId]),
        [
          ["flaky", undefined],
          ["flaky", task.id],
          ["flaky", task.id],
        ],
      )
      const log = logOf(world, task.id)
      assert.deepStrictEqual(
        retries().map((e) => [e.attempt, e.max_retries, e.error_class]),
        [
          [1, 2, "TransientFailure"],
          [2, 2, "TransientFailure"],
        ],
      )
      assert.strictEqual(ofType(log, "user_message").length, 1, "the prompt is logged once")
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "completed")
      assert.strictEqual(resultOf(world, task.id), "done")
    }),
  )

  it.scoped("gives up after maxRetries and ends DIED with the error class", () =>
    Effect.gen(function* () {
      const world = yield* setup([transient()])
      const task = yield* startTask(world, "always failing")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 3)
      const log = logOf(world, task.id)
      assert.strictEqual(ofType(log, "retry").length, 2)
      assert.deepStrictEqual(
        ofType(log, "invocation_failed").map((e) => e.retryable),
        [true, true, false],
      )
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "DIED")
      assert.strictEqual(meta.last_outcome?.kind, "failed")
      assert.strictEqual(meta.last_outcome?.error_class, "TransientFailure")
      assert.include(meta.last_outcome?.message, "stream disconnected")
    }),
  )

  it.scoped("never retries a fatal failure", () =>
    Effect.gen(function* () {
      const world = yield* setup([
        FakeScripts.turnFailed("Quota exceeded. Check your plan and billing details."),
      ])
      const task = yield* startTask(world, "no money")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1)
      const log = logOf(world, task.id)
      assert.strictEqual(ofType(log, "retry").length, 0)
      assert.deepStrictEqual(
        ofType(log, "invocation_failed").map((e) => [e.error_class, e.retryable]),
        [["QuotaExceeded", false]],
      )
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "DIED")
      assert.strictEqual(meta.last_outcome?.error_class, "QuotaExceeded")
    }),
  )

  it.scoped("does not run a prompt again once its turn ran a command", () =>
    Effect.gen(function* () {
      const command = {
        id: "item_1",
        type: "command_execution",
        command: "/bin/bash -lc 'touch x'",
        aggregated_output: "",
        exit_code: null,
        status: "in_progress",
      }
      const world = yield* setup([
        {
          steps: [
            { event: { type: "thread.started" } },
            { event: { type: "turn.started" } },
            { event: { type: "item.started", item: command } },
            ...transient().steps.slice(2),
          ],
          exitCode: 1,
        },
        reply("must not run"),
      ])
      const task = yield* startTask(world, "side effects")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1)
      assert.strictEqual(metaOf(world, task.id).state, "DIED")
      assert.strictEqual(metaOf(world, task.id).last_outcome?.error_class, "TransientFailure")
    }),
  )

  it.effect("the backoff doubles per attempt within ±50 % and is capped", () =>
    Effect.gen(function* () {
      const schedule = Schedule.delays(
        retrySchedule({ maxRetries: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 }),
      )
      const failure = new AttemptFailed({
        loc: { id: "t" as TaskLocation["id"], dir: "/nowhere", archived: false },
        error: new TransientFailure({ message: "x", evidence: noEvidence }),
        sideEffects: false,
        attempt: 1,
      })
      for (let seed = 0; seed < 40; seed++) {
        const delays = yield* Schedule.run(schedule, 0, Array(7).fill(failure)).pipe(
          Effect.withRandom(Random.make(seed)),
        )
        // `run` also collects the output of the step that ends the schedule: 5 retries + the end.
        const all = Chunk.toReadonlyArray(delays).map((d) => Duration.toMillis(d))
        assert.strictEqual(all.length, 6, "at most maxRetries retries")
        const ms = all.slice(0, 5)
        ms.forEach((d, k) => {
          assert.isAtLeast(d, Math.min(5_000, 500 * 2 ** k), `retry ${k + 1}`)
          assert.isAtMost(d, Math.min(5_000, 1_500 * 2 ** k), `retry ${k + 1}`)
        })
      }
    }),
  )
})

describe("worker: results", () => {
  /** Runs `first` via start, then `second` via a resume worker; returns the task id. */
  const twoTurns = (second: FakeScript) =>
    Effect.gen(function* () {
      const world = yield* setup([reply("first result"), second])
      const task = yield* startTask(world, "one")
      yield* drive(task.fiber)
      assert.strictEqual(resultOf(world, task.id), "first result")
      yield* world.store.inboxPush(task.loc, "two")
      yield* drive(
        (yield* launch(world, resumeRequest(task.id, { ...policy, maxRetries: 0 }))).fiber,
      )
      assert.strictEqual(world.fake.requests.length, 2)
      assert.deepStrictEqual(strayResults(world), [], "no temporary result file left")
      return { world, id: task.id }
    })

  it.scoped("a completed turn with a message replaces the result", () =>
    Effect.gen(function* () {
      const { world, id } = yield* twoTurns(reply("second result"))
      assert.strictEqual(resultOf(world, id), "second result")
      assert.strictEqual(metaOf(world, id).last_result, "second result")
    }),
  )

  it.scoped("a failed turn keeps the previous result", () =>
    Effect.gen(function* () {
      const { world, id } = yield* twoTurns(transient())
      assert.strictEqual(resultOf(world, id), "first result")
      assert.strictEqual(metaOf(world, id).last_result, "first result")
      assert.strictEqual(metaOf(world, id).state, "DIED")
    }),
  )

  it.scoped("a completed turn without a message keeps the previous result", () =>
    Effect.gen(function* () {
      const { world, id } = yield* twoTurns({
        steps: [
          { event: { type: "thread.started" } },
          { event: { type: "turn.started" } },
          { event: { type: "turn.completed", usage } },
        ],
      })
      assert.strictEqual(resultOf(world, id), "first result")
      assert.strictEqual(metaOf(world, id).last_result, "first result")
      assert.strictEqual(metaOf(world, id).state, "STOPPED")
      assert.strictEqual(metaOf(world, id).turns, 2)
    }),
  )
})

describe("worker: stop", () => {
  it.scoped("stop now interrupts the turn, drops and records the queue, ends STOPPED", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("never", "1 hour")])
      const task = yield* startTask(world, "long")
      yield* world.store.inboxPush(task.loc, "queued 1")
      yield* world.store.inboxPush(task.loc, "queued 2")

      yield* task.stop("now")
      yield* Fiber.join(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1)
      const log = logOf(world, task.id)
      assert.deepStrictEqual(
        ofType(log, "prompts_dropped").map((e) => [e.count, e.prompts]),
        [[2, ["queued 1", "queued 2"]]],
      )
      assert.isTrue(ofType(log, "worker").some((e) => String(e.message).includes("stop requested")))
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "interrupted")
      assert.strictEqual(meta.dropped_prompts, 2)
      assert.strictEqual(resultOf(world, task.id), undefined)
      assert.deepStrictEqual(yield* world.store.inboxPending(task.loc), [])
      assert.isFalse(existsSync(join(world.root, task.id, "worker.json")))
      assert.deepStrictEqual(strayResults(world), [])
    }),
  )

  it.scoped("stop after the turn lets it finish, then drops the queue", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("finished", "1 hour"), reply("must not run")])
      const task = yield* startTask(world, "long")
      yield* world.store.inboxPush(task.loc, "queued")

      yield* task.stop("after-turn")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1)
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "completed")
      assert.strictEqual(meta.dropped_prompts, 1)
      assert.strictEqual(resultOf(world, task.id), "finished")
      assert.deepStrictEqual(
        ofType(logOf(world, task.id), "prompts_dropped").map((e) => e.prompts),
        [["queued"]],
      )
    }),
  )

  // SPEC §4: a task ends DIED only when retries are exhausted or the failure is fatal.
  it.scoped("a stop during the retry backoff ends STOPPED without another attempt", () =>
    Effect.gen(function* () {
      const world = yield* setup([transient(), reply("must not run")])
      const task = yield* startTask(world, "flaky")
      yield* until("the retry entry", () => ofType(logOf(world, task.id), "retry").length === 1)

      yield* task.stop("now")
      yield* drive(task.fiber)

      assert.strictEqual(world.fake.requests.length, 1)
      const meta = metaOf(world, task.id)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.last_outcome?.kind, "interrupted")
    }),
  )
})

describe("worker: a stop during the retry backoff", () => {
  // An hour-long backoff, and the TestClock never moves: only the stop can end the wait.
  const slow = { maxRetries: 2, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 }

  it.scoped.each(["now", "after-turn"] as const)(
    "a stop (%s) ends the backoff at once: STOPPED, interrupted, no other attempt",
    (mode) =>
      Effect.gen(function* () {
        const world = yield* setup([transient(), reply("must not run")])
        const task = yield* startTask(world, "flaky", slow)
        yield* until("the retry entry", () => ofType(logOf(world, task.id), "retry").length === 1)

        yield* task.stop(mode)
        yield* Fiber.join(task.fiber)

        assert.strictEqual(world.fake.requests.length, 1)
        const meta = metaOf(world, task.id)
        assert.strictEqual(meta.state, "STOPPED")
        assert.strictEqual(meta.last_outcome?.kind, "interrupted")
        assert.strictEqual(meta.last_outcome?.message, "by stop (during retry backoff)")
        assert.isTrue(
          logOf(world, task.id).some((e) => e.message === "stop requested during retry backoff"),
          "the log says the stop cut the backoff",
        )
      }),
  )
})

describe("worker: usage without reasoning_output_tokens", () => {
  // codex (and the public fake) may omit the optional usage counters.
  it.scoped("completes a turn whose usage lacks reasoning_output_tokens", () =>
    Effect.gen(function* () {
      const world = yield* setup([FakeScripts.reply("hello")])
      const task = yield* startTask(world, "hi")
      yield* drive(task.fiber)

      assert.strictEqual(metaOf(world, task.id).state, "STOPPED")
      assert.strictEqual(resultOf(world, task.id), "hello")
    }),
  )
})

describe("finalState", () => {
  it.each([
    [undefined, "STOPPED"],
    ["completed", "STOPPED"],
    ["interrupted", "STOPPED"],
    ["failed", "DIED"],
    ["worker_lost", "DIED"],
  ] as const)("outcome %s ends %s", (kind, state) => {
    const outcome =
      kind === undefined
        ? undefined
        : kind === "failed"
          ? { kind, error_class: "TurnFailed", message: "boom", at: "2025-10-12T09:15:02Z" }
          : { kind, at: "2025-10-12T09:15:02Z" }
    assert.strictEqual(finalState(outcome), state)
  })
})
