import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, type Scope, Stream, TestClock } from "effect"
import { isRetryable } from "../../src/domain/errors.js"
import type { ThreadEvent } from "../../src/domain/events.js"
import { CodexExec, type ExecOutput, type ExecRequest } from "../../src/exec/CodexExec.js"
import { type FakeScript, FakeScripts, makeFakeCodexExec } from "../../src/testing/CodexExecFake.js"

/** A scratch directory for `outputLastMessage`, removed with the scope. */
const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "fake-exec-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

const request = (dir: string, extra: Partial<ExecRequest> = {}): ExecRequest => ({
  prompt: "hello",
  options: {},
  outputLastMessage: join(dir, "last.txt"),
  ...extra,
})

/** Runs one request against `scripts`, returning the run and the fake. */
const runFake = (
  scripts: ReadonlyArray<FakeScript>,
  extra: Partial<ExecRequest> = {},
): Effect.Effect<
  {
    readonly run: Effect.Effect.Success<ReturnType<typeof CodexExec.Service.run>>
    readonly dir: string
  },
  Effect.Effect.Error<ReturnType<typeof CodexExec.Service.run>>,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const dir = yield* scratch
    const fake = makeFakeCodexExec(scripts)
    const exec = yield* Effect.provide(CodexExec, fake.layer)
    const run = yield* exec.run(request(dir, extra))
    return { run, dir }
  })

const describeOutput = (o: ExecOutput): string =>
  o._tag === "Stderr"
    ? `stderr:${o.text}`
    : o.line._tag === "Event"
      ? `event:${o.line.event.type}`
      : `raw:${o.line.raw}`

const typesOf = (events: ReadonlyArray<ThreadEvent>) => events.map((e) => e.type)

describe("makeFakeCodexExec", () => {
  it.scoped("plays the scripted output in order and fills in the thread id", () =>
    Effect.gen(function* () {
      const { run } = yield* runFake([
        {
          threadId: "thread-1",
          steps: [
            { event: { type: "thread.started" } },
            { stderr: "Reading prompt from stdin..." },
            { event: { type: "turn.started" } },
            { line: "not json at all" },
            {
              event: {
                type: "item.completed",
                item: { id: "i0", type: "agent_message", text: "hi" },
              },
            },
            {
              event: {
                type: "turn.completed",
                usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1 },
              },
            },
          ],
        },
      ])
      const output = Chunk.toArray(yield* Stream.runCollect(run.output))

      assert.deepStrictEqual(output.map(describeOutput), [
        "event:thread.started",
        "stderr:Reading prompt from stdin...",
        "event:turn.started",
        "raw:not json at all",
        "event:item.completed",
        "event:turn.completed",
      ])
      const first = output[0]
      assert(first?._tag === "Stdout" && first.line._tag === "Event")
      assert.deepStrictEqual(first.line.event, { type: "thread.started", thread_id: "thread-1" })
      assert.strictEqual(
        new TextDecoder().decode(first.bytes),
        '{"type":"thread.started","thread_id":"thread-1"}',
      )
      const result = yield* run.result
      assert.strictEqual(result.outcome._tag, "Completed")
      assert.strictEqual(result.exitCode, 0)
      assert.deepStrictEqual(result.stderrTail, ["Reading prompt from stdin..."])
    }),
  )

  it.scoped("reports the resumed thread id when the script names none", () =>
    Effect.gen(function* () {
      const { run } = yield* runFake([FakeScripts.reply("again")], { resumeThreadId: "thread-9" })
      const events = Chunk.toArray(yield* Stream.runCollect(run.events))

      assert.deepStrictEqual(events[0], { type: "thread.started", thread_id: "thread-9" })
      const result = yield* run.result
      assert(result.outcome._tag === "Completed")
      assert.strictEqual(result.outcome.threadId, "thread-9")
    }),
  )

  it.scoped("waits for scripted delays on the Effect clock (TestClock)", () =>
    Effect.gen(function* () {
      const { run } = yield* runFake([FakeScripts.reply("late", { delay: "10 minutes" })])
      const seen: Array<string> = []
      const consumer = yield* run.events.pipe(
        Stream.runForEach((e) => Effect.sync(() => seen.push(e.type))),
        Effect.fork,
      )

      yield* TestClock.adjust("9 minutes")
      assert.deepStrictEqual(seen, ["thread.started", "turn.started"])
      assert.isTrue((yield* Fiber.poll(consumer))._tag === "None")

      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(consumer)
      assert.deepStrictEqual(seen, [
        "thread.started",
        "turn.started",
        "item.completed",
        "turn.completed",
      ])
    }),
  )

  it.scoped("FakeScripts.reply writes the last message file and completes", () =>
    Effect.gen(function* () {
      const { run, dir } = yield* runFake([FakeScripts.reply("The answer is 42.")])
      const events = Chunk.toArray(yield* Stream.runCollect(run.events))
      const result = yield* run.result

      assert.deepStrictEqual(typesOf(events), [
        "thread.started",
        "turn.started",
        "item.completed",
        "turn.completed",
      ])
      assert.strictEqual(readFileSync(join(dir, "last.txt"), "utf8"), "The answer is 42.")
      assert(result.outcome._tag === "Completed")
      assert.strictEqual(result.outcome.finalMessage, "The answer is 42.")
      assert.deepStrictEqual(result.outcome.usage, {
        input_tokens: 100,
        cached_input_tokens: 0,
        output_tokens: 10,
        reasoning_output_tokens: 0,
      })
      assert.strictEqual(result.exitCode, 0)
    }),
  )

  it.scoped("FakeScripts.turnFailed classifies as Failed and fails the event stream", () =>
    Effect.gen(function* () {
      const { run, dir } = yield* runFake([
        FakeScripts.turnFailed("stream disconnected before completion: connection reset"),
      ])
      const error = yield* Effect.flip(Stream.runDrain(run.events))
      const result = yield* run.result

      assert.strictEqual(error._tag, "TransientFailure")
      assert.isTrue(isRetryable(error))
      assert(result.outcome._tag === "Failed")
      assert.strictEqual(result.outcome.error._tag, "TransientFailure")
      assert.strictEqual(result.exitCode, 1)
      assert.isFalse(existsSync(join(dir, "last.txt")))
    }),
  )

  it.scoped("a turn failing with another message is a fatal TurnFailed", () =>
    Effect.gen(function* () {
      const { run } = yield* runFake([FakeScripts.turnFailed("something odd happened")])
      const result = yield* run.result

      assert(result.outcome._tag === "Failed")
      assert.strictEqual(result.outcome.error._tag, "TurnFailed")
      assert.isFalse(isRetryable(result.outcome.error))
    }),
  )

  it.scoped("interrupt ends the output and yields Interrupted", () =>
    Effect.gen(function* () {
      const { run, dir } = yield* runFake([FakeScripts.reply("never", { delay: "1 hour" })])
      const consumer = yield* Effect.fork(Stream.runCollect(run.events))
      yield* TestClock.adjust("1 second")

      yield* run.interrupt
      const events = Chunk.toArray(yield* Fiber.join(consumer))
      const result = yield* run.result

      assert.deepStrictEqual(typesOf(events), ["thread.started", "turn.started"])
      assert.strictEqual(result.outcome._tag, "Interrupted")
      assert.strictEqual(result.outcome.threadId, (events[0] as { thread_id: string }).thread_id)
      assert.isFalse(existsSync(join(dir, "last.txt")))
    }),
  )

  it.scoped("closing the run's scope after it played a while interrupts it", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      const fake = makeFakeCodexExec([FakeScripts.reply("never", { delay: "1 hour" })])
      const exec = yield* Effect.provide(CodexExec, fake.layer)
      const run = yield* Effect.scoped(
        Effect.tap(exec.run(request(dir)), () => TestClock.adjust("1 second")),
      )
      const result = yield* run.result

      assert.strictEqual(result.outcome._tag, "Interrupted")
      const events = Chunk.toArray(yield* Stream.runCollect(run.events))
      assert.deepStrictEqual(typesOf(events), ["thread.started", "turn.started"])
    }),
  )

  // The scope closing before the scripted fiber started must still end the run.
  it.scopedLive("closing the run's scope at once still ends the run", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      const fake = makeFakeCodexExec([FakeScripts.reply("never", { delay: "1 hour" })])
      const exec = yield* Effect.provide(CodexExec, fake.layer)
      const run = yield* Effect.scoped(exec.run(request(dir)))
      const result = yield* run.result.pipe(Effect.timeout("1 second"), Effect.orDie)

      assert.strictEqual(result.outcome._tag, "Interrupted")
    }),
  )

  it.scoped(
    "spawnError ENOENT fails the run with CodexNotFound, other codes with SpawnFailed",
    () =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(runFake([{ steps: [], spawnError: "ENOENT" }]))
        const denied = yield* Effect.flip(runFake([{ steps: [], spawnError: "EACCES" }]))

        assert.strictEqual(missing._tag, "CodexNotFound")
        assert.isFalse(isRetryable(missing))
        assert(denied._tag === "SpawnFailed")
        assert.strictEqual(denied.code, "EACCES")
      }),
  )

  it.scoped("a script ending by a signal is classified KilledBySignal", () =>
    Effect.gen(function* () {
      const { run } = yield* runFake([
        { steps: [{ event: { type: "thread.started" } }], signal: "SIGKILL" },
      ])
      const result = yield* run.result

      assert.strictEqual(result.signal, "SIGKILL")
      assert.strictEqual(result.exitCode, null)
      assert(result.outcome._tag === "Failed")
      assert.strictEqual(result.outcome.error._tag, "KilledBySignal")
    }),
  )

  it.scoped("FakeScripts.failBeforeThread surfaces codex's stderr", () =>
    Effect.gen(function* () {
      const { run } = yield* runFake([
        FakeScripts.failBeforeThread(
          "Not inside a trusted directory and --skip-git-repo-check was not specified.",
        ),
      ])
      const output = Chunk.toArray(yield* Stream.runCollect(run.output))
      const result = yield* run.result

      assert.deepStrictEqual(output.map(describeOutput), [
        "stderr:Not inside a trusted directory and --skip-git-repo-check was not specified.",
      ])
      assert(result.outcome._tag === "Failed")
      assert.strictEqual(result.outcome.error._tag, "UntrustedDirectory")
      assert.strictEqual(result.exitCode, 1)
    }),
  )

  it.scoped("records every request and plays the n-th script for the n-th run", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      const fake = makeFakeCodexExec([FakeScripts.reply("one"), FakeScripts.reply("two")])
      const exec = yield* Effect.provide(CodexExec, fake.layer)
      const finalMessages: Array<string | undefined> = []
      for (const [i, prompt] of ["first", "second", "third"].entries()) {
        const resume = i === 0 ? {} : { resumeThreadId: "thread-1" }
        const run = yield* exec.run(request(dir, { prompt, ...resume }))
        const result = yield* run.result
        finalMessages.push(result.outcome._tag === "Completed" ? result.outcome.finalMessage : "?")
      }

      assert.deepStrictEqual(finalMessages, ["one", "two", "two"])
      assert.deepStrictEqual(
        fake.requests.map((r) => [r.prompt, r.resumeThreadId]),
        [
          ["first", undefined],
          ["second", "thread-1"],
          ["third", "thread-1"],
        ],
      )
    }),
  )

  it.scoped("takes a function of the request as its script", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      const fake = makeFakeCodexExec((req, n) => FakeScripts.reply(`#${n}: ${req.prompt}`))
      const exec = yield* Effect.provide(CodexExec, fake.layer)
      const run = yield* exec.run(request(dir, { prompt: "ping" }))
      yield* run.result

      assert.strictEqual(readFileSync(join(dir, "last.txt"), "utf8"), "#0: ping")
    }),
  )
})
