import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, type Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import type { TaskMeta } from "../../src/domain/task.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { type FakeScript, FakeScripts, makeFakeCodexExec } from "../../src/testing/index.js"
import type { Handshake, RetryPolicy, WorkerRequest } from "../../src/worker/protocol.js"
import { backoffDelay, finalState } from "../../src/worker/rules.js"
import { runWorker } from "../../src/worker/Worker.js"
import { makeWorkerControl, type StopMode, WorkerControl } from "../../src/worker/WorkerControl.js"

// The worker program in-process: the scripted CodexExec instead of codex, a real store in a temp
// directory, and a WorkerControl the test uses to request stops. Fake delays run on the TestClock,
// so a scripted "1 hour" turn lasts exactly until the test moves the clock.

const tempRoot = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-worker-run-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const policy: RetryPolicy = { maxRetries: 2, baseDelayMs: 1_000, maxDelayMs: 60_000 }

const startRequest = (prompt: string, retry: RetryPolicy = policy): WorkerRequest => ({
  _tag: "Start",
  storeRoot: "unused-in-process",
  codexBin: "unused-in-process",
  prompt,
  title: "worker test",
  options: { workingDir: "/tmp", skipGitRepoCheck: true },
  retry,
})

const resumeRequest = (taskId: string, retry: RetryPolicy = policy): WorkerRequest => ({
  _tag: "Resume",
  storeRoot: "unused-in-process",
  codexBin: "unused-in-process",
  taskId,
  retry,
})

/** Real time passing (the TestClock does not move it): lets file I/O and fibers progress. */
const realTick = (ms = 2) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits in real time until `probe` holds. */
const until = (what: string, probe: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_500; i++) {
      if (probe()) return
      yield* realTick()
    }
    assert.fail(`timed out waiting for ${what}`)
  })

/** A store in a fresh temp root plus a fake codex playing `scripts`. */
const setup = (scripts: ReadonlyArray<FakeScript>) =>
  Effect.gen(function* () {
    const root = join(yield* tempRoot, "store")
    const fake = makeFakeCodexExec(scripts)
    const storeLayer = TaskStore.layer(root)
    const store = yield* Effect.provide(TaskStore, storeLayer)
    return { root, fake, store, layer: Layer.merge(fake.layer, storeLayer) }
  })

type World = Effect.Effect.Success<ReturnType<typeof setup>>

/**
 * Forks a worker on `request`; its handshake and a way to ask it to stop come back. `onAnswer`
 * runs inside the worker at the moment it answers (what a CLI would see on getting the id).
 */
const launch = (world: World, request: WorkerRequest, onAnswer?: (h: Handshake) => void) =>
  Effect.gen(function* () {
    const { control, request: requestStop } = yield* makeWorkerControl
    const answer = yield* Deferred.make<Handshake>()
    const respond = (h: Handshake) =>
      Effect.zipRight(
        Effect.sync(() => onAnswer?.(h)),
        Deferred.succeed(answer, h),
      )
    const fiber = yield* runWorker(request, respond).pipe(
      Effect.provide(world.layer),
      Effect.provideService(WorkerControl, control),
      // scoped: a failing test interrupts the worker before its temp store is removed
      Effect.forkScoped,
    )
    return {
      fiber,
      handshake: Deferred.await(answer),
      stop: (mode: StopMode) => requestStop(mode),
    }
  })

/** Moves the TestClock in `step`s until the worker is done. */
const drive = (fiber: Fiber.RuntimeFiber<void>, step: Duration.DurationInput = "1 minute") =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_500; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return yield* Fiber.join(fiber)
      yield* TestClock.adjust(step)
      yield* realTick()
    }
    assert.fail("the worker did not finish")
  })

/** Starts a task and waits for its `Started` handshake; returns the task id and location. */
const startTask = (world: World, prompt: string, retry?: RetryPolicy) =>
  Effect.gen(function* () {
    const worker = yield* launch(world, startRequest(prompt, retry))
    const answer = yield* worker.handshake
    assert.strictEqual(answer._tag, "Started", JSON.stringify(answer))
    const id = (answer as { id: string }).id
    const loc = yield* world.store.resolve(id)
    return { ...worker, id, loc }
  })

/** `task.log` as entries (`{ raw }` for a line that is not JSON); empty while it does not exist. */
const logOf = (world: World, id: string): ReadonlyArray<Record<string, unknown>> => {
  const path = join(world.root, id, "task.log")
  return (existsSync(path) ? readFileSync(path, "utf8") : "")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>
      } catch {
        return { raw: l }
      }
    })
}

const ofType = (log: ReadonlyArray<Record<string, unknown>>, type: string) =>
  log.filter((e) => e.type === type)

const metaOf = (world: World, id: string): TaskMeta =>
  JSON.parse(readFileSync(join(world.root, id, "task.json"), "utf8")) as TaskMeta

const resultOf = (world: World, id: string): string | undefined => {
  const path = join(world.root, id, "task.result")
  return existsSync(path) ? readFileSync(path, "utf8") : undefined
}

/** Every regular file below `dir` (relative paths). */
const filesBelow = (dir: string, prefix = ""): Array<string> => {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory()
      ? filesBelow(path, `${prefix}${name}/`)
      : [`${prefix}${name}`]
  })
}

/** Temporary result files left anywhere in the store. */
const strayResults = (world: World) => filesBelow(world.root).filter((f) => f.includes(".result."))

// The usage codex 0.169 reports (FakeScripts.reply leaves out reasoning_output_tokens; see the
// last test of this file).
const usage = {
  input_tokens: 100,
  cached_input_tokens: 0,
  output_tokens: 10,
  reasoning_output_tokens: 0,
}

/** A turn answering `text`, optionally after `delay` on the TestClock. */
const reply = (text: string, delay?: Duration.DurationInput): FakeScript => ({
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    ...(delay === undefined ? [] : [{ delay }]),
    { event: { type: "item.completed", item: { id: "i0", type: "agent_message", text } } },
    { event: { type: "turn.completed", usage } },
  ],
})
const transient = () =>
  FakeScripts.turnFailed("stream disconnected before completion: error sending request")

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
      assert.deepStrictEqual(filesBelow(world.root), [], "nothing on disk before thread.started")

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
      assert.deepStrictEqual(meta.usage, usage as unknown as TaskMeta["usage"])
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

      assert.deepStrictEqual(
        seen.map((e) => e.type),
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

  it("backoff doubles per attempt within ±50 % and is capped", () => {
    const p = { maxRetries: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 }
    assert.deepStrictEqual(
      [1, 2, 3].map((n) => [backoffDelay(p, n, 0), backoffDelay(p, n, 0.5)]),
      [
        [500, 1_000],
        [1_000, 2_000],
        [2_000, 4_000],
      ],
    )
    assert.strictEqual(backoffDelay(p, 3, 0.999), 5_000)
    assert.strictEqual(backoffDelay(p, 10, 0), 5_000)
  })
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
    const outcome = kind === undefined ? undefined : { kind, at: "2025-10-12T09:15:02Z" }
    assert.strictEqual(finalState(outcome), state)
  })
})
