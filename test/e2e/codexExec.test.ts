import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { type ExecError, isRetryable } from "../../src/domain/errors.js"
import { isTurnCompleted, type ThreadEvent } from "../../src/domain/events.js"
import type { ExecOutput, ExecRequest, ExecRun } from "../../src/exec/CodexExec.js"
import type { ExecOutcome } from "../../src/exec/classify.js"
import type { ExecOptions } from "../../src/exec/options.js"
import type { ProcessIdentity } from "../../src/processes/identity.js"
import {
  assertNoMarkedProcesses,
  cmdlineOf,
  deadUrl,
  type ExecWorld,
  eventsIn,
  isAlive,
  makeWorld,
  runToEnd,
  start,
  waitFor,
} from "../support/execHarness.js"
import { descendants, markedProcesses, processesMatching } from "../support/processes.js"

const trusted: ExecOptions = { skipGitRepoCheck: true }
const bypass: ExecOptions = { skipGitRepoCheck: true, bypassApprovalsAndSandbox: true }

const typesOf = (events: ReadonlyArray<ThreadEvent>) => events.map((e) => e.type)
const threadIdOf = (events: ReadonlyArray<ThreadEvent>) => {
  const started = events.find((e) => e.type === "thread.started") as
    | { readonly thread_id: string }
    | undefined
  return started?.thread_id
}
const itemsOf = (events: ReadonlyArray<ThreadEvent>, type: string, itemType: string) =>
  events
    .filter((e) => e.type === type)
    .map((e) => (e as { readonly item: Record<string, unknown> }).item)
    .filter((item) => item.type === itemType)

/** A UUIDv7-looking id that no CODEX_HOME knows. */
const unknownThreadId = () => {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("")
  const time = Date.now().toString(16).padStart(12, "0")
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(3)}-8${hex(3)}-${hex(12)}`
}

/** Runs `prompt` in `world` (new thread unless `resumeThreadId`). */
const runIn = (
  world: ExecWorld,
  prompt: string,
  options: ExecOptions = trusted,
  resumeThreadId?: string,
) =>
  runToEnd({
    prompt,
    options: { workingDir: world.cwd, ...options },
    outputLastMessage: world.lastMessage,
    ...(resumeThreadId === undefined ? {} : { resumeThreadId }),
  }).pipe(Effect.provide(world.layer))

const failureOf = (outcome: ExecOutcome): ExecError => {
  assert(outcome._tag === "Failed", `expected a failure, got ${JSON.stringify(outcome)}`)
  return outcome.error
}

/**
 * Starts a command running `sleep 300.<token>` (`wrap` builds the command around it) and waits
 * until the sleep runs; returns the run, the fiber reading its output, a snapshot of every
 * process of the run (the codex processes and the command's), the token and the sleep's pid.
 */
const startSleeper = (
  world: ExecWorld,
  wrap: (sleep: string) => string = (sleep) => sleep,
  extra: Pick<ExecRequest, "onProcessesSeen"> = {},
) =>
  Effect.gen(function* () {
    const token = String(Math.floor(Math.random() * 1e9)).padStart(9, "0")
    const sleep = `sleep 300.${token}`
    const run = yield* start({
      prompt: `Sleep for a long time.\nRUN:${wrap(sleep)}`,
      options: { workingDir: world.cwd, ...bypass },
      outputLastMessage: world.lastMessage,
      ...extra,
    })
    const commandStarted = yield* Deferred.make<void>()
    const output: Array<ExecOutput> = []
    const reader = yield* run.output.pipe(
      Stream.runForEach((o) =>
        Effect.suspend(() => {
          output.push(o)
          const started = itemsOf(eventsIn([o]), "item.started", "command_execution")
          return started.length > 0 ? Deferred.succeed(commandStarted, undefined) : Effect.void
        }),
      ),
      Effect.fork,
    )
    yield* Deferred.await(commandStarted).pipe(Effect.timeout("15 seconds"), Effect.orDie)
    const { tree, sleepPid } = yield* waitFor("the sleep process", () => {
      const pids = descendants(run.pid)
      const found = pids.find((p) => cmdlineOf(p)?.join(" ") === sleep)
      return found === undefined ? undefined : { tree: pids, sleepPid: found }
    })
    return { run, reader, output, pids: [run.pid, ...tree], token, sleepPid }
  })

/** None of `pids`, no process of the run's marker, no process carrying `token` is left. */
const assertAllGone = (pids: ReadonlyArray<number>, run: Pick<ExecRun, "runId">, token: string) =>
  Effect.gen(function* () {
    assert.deepStrictEqual(
      pids.filter(isAlive),
      [],
      `survivors among ${pids.map((p) => `${p}:${cmdlineOf(p)?.join(" ")}`).join(", ")}`,
    )
    assert.deepStrictEqual(
      processesMatching(token).map((p) => `${p}: ${cmdlineOf(p)?.join(" ")}`),
      [],
      "processes of the command, found by its command line",
    )
    yield* assertNoMarkedProcesses(run.runId)
  })

describe("CodexExecLive with the real codex", () => {
  it.scopedLive("new thread: thread.started … turn.completed, last message written", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const done = yield* runIn(world, "Say hello.\nREPLY:Hello from codex-tasks!")

      const types = typesOf(done.events)
      assert.strictEqual(types[0], "thread.started")
      assert.strictEqual(types.at(-1), "turn.completed")
      assert.include(types, "item.completed")
      assert.strictEqual(readFileSync(world.lastMessage, "utf8").trim(), "Hello from codex-tasks!")
      const last = done.events.at(-1)
      assert(last !== undefined && isTurnCompleted(last))
      assert.deepStrictEqual(done.result.outcome, {
        _tag: "Completed",
        threadId: threadIdOf(done.events) ?? "?",
        usage: last.usage,
        finalMessage: "Hello from codex-tasks!",
      })
      assert.strictEqual(done.result.exitCode, 0)
      // every stdout line is an event here, with its exact bytes kept
      for (const o of done.output)
        if (o._tag === "Stdout") assert.strictEqual(new TextDecoder().decode(o.bytes), o.line.raw)
    }),
  )

  it.scopedLive("resume: same thread id, and the model saw the first turn", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const first = yield* runIn(world, "Remember MANGO.\nREPLY:Noted: MANGO.")
      const threadId = threadIdOf(first.events)
      assert.isString(threadId)

      const second = yield* runIn(world, "Which fruit?\nREPLY:It was MANGO.", trusted, threadId)

      assert.strictEqual(threadIdOf(second.events), threadId)
      assert(second.result.outcome._tag === "Completed")
      assert.strictEqual(second.result.outcome.threadId, threadId)
      assert.strictEqual(second.result.outcome.finalMessage, "It was MANGO.")
      const resumed = world.server.requests[1]
      assert.include(resumed?.userTexts ?? [], "Remember MANGO.\nREPLY:Noted: MANGO.")
      assert.include(JSON.stringify(resumed?.body), "Noted: MANGO.")
      assert.strictEqual(resumed?.lastUserText, "Which fruit?\nREPLY:It was MANGO.")
    }),
  )

  it.scopedLive("a command execution round trip", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const done = yield* runIn(world, "Run it.\nRUN:echo hi\nREPLY:Ran it.", bypass)

      const started = itemsOf(done.events, "item.started", "command_execution")
      const completed = itemsOf(done.events, "item.completed", "command_execution")
      assert.strictEqual(started.length, 1)
      assert.include(String(started[0]?.command), "echo hi")
      assert.strictEqual(completed[0]?.id, started[0]?.id)
      assert.strictEqual(completed[0]?.exit_code, 0)
      assert.strictEqual(completed[0]?.aggregated_output, "hi\n")
      assert.strictEqual(completed[0]?.status, "completed")
      assert.strictEqual(done.result.outcome._tag, "Completed")
    }),
  )

  const httpFailures = [
    { directive: "STATUS:401", tag: "AuthenticationFailed", retryable: false },
    { directive: "STATUS:500", tag: "TransientFailure", retryable: true },
    { directive: "DROP", tag: "TransientFailure", retryable: true },
  ] as const
  for (const { directive, tag, retryable } of httpFailures) {
    it.scopedLive(`${directive} → ${tag} (${retryable ? "retryable" : "fatal"})`, () =>
      Effect.gen(function* () {
        const world = yield* makeWorld()
        const done = yield* runIn(world, `Fail please.\n${directive}`)

        const error = failureOf(done.result.outcome)
        assert.strictEqual(error._tag, tag, error.message)
        assert.strictEqual(isRetryable(error), retryable)
        assert.strictEqual(typesOf(done.events).at(-1), "turn.failed")
        assert.strictEqual(done.result.exitCode, 1)
        assert.isNotEmpty(error.evidence.lastEvents)
      }),
    )
  }

  it.scopedLive(
    "no network: a run that only reconnects is stopped → ReconnectLoop (retryable)",
    () =>
      Effect.gen(function* () {
        // codex retries `Reconnecting... waiting for network` forever (BEHAVIOR.md); the stall
        // detector stops it once it printed nothing else for the timeout.
        const world = yield* makeWorld({ modelUrl: yield* deadUrl(), reconnectTimeoutMs: 1_000 })
        const done = yield* runIn(world, "Hello.")

        const error = failureOf(done.result.outcome)
        assert.strictEqual(error._tag, "ReconnectLoop", error.message)
        assert.isTrue(isRetryable(error))
        assert.include(JSON.stringify(done.events), "Reconnecting... waiting for network")
        assert.strictEqual(world.server.requests.length, 0)
      }),
  )

  it.scopedLive("resume of an unknown thread id → UnknownThread (fatal)", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const id = unknownThreadId()
      const done = yield* runIn(world, "Hello again.", trusted, id)

      const error = failureOf(done.result.outcome)
      assert(error._tag === "UnknownThread", error.message)
      assert.strictEqual(error.threadId, id)
      assert.include(error.message, id)
      assert.isFalse(isRetryable(error))
      assert.deepStrictEqual(done.events, [])
      assert.strictEqual(world.server.requests.length, 0)
    }),
  )

  it.scopedLive("a missing binary → run fails with CodexNotFound", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld({ codexBin: "/nonexistent/codex" })
      const error = yield* start({
        prompt: "Hello.",
        options: { workingDir: world.cwd, ...trusted },
        outputLastMessage: world.lastMessage,
      }).pipe(Effect.provide(world.layer), Effect.flip)

      assert.strictEqual(error._tag, "CodexNotFound")
      assert.isFalse(isRetryable(error))
      assert.include(error.message, "not found")
    }),
  )

  it.scopedLive("an untrusted non-git directory → UntrustedDirectory with codex's words", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const git = spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: world.cwd })
      assert.notStrictEqual(git.status, 0, `${world.cwd} must not be inside a git repository`)

      const done = yield* runIn(world, "Hello.", {})

      const error = failureOf(done.result.outcome)
      assert.strictEqual(error._tag, "UntrustedDirectory", error.message)
      assert.include(error.message, "Not inside a trusted directory")
      assert.isFalse(isRetryable(error))
      assert.deepStrictEqual(done.events, [])
      assert.strictEqual(world.server.requests.length, 0)
    }),
  )

  /** Runs `prompt` (which holds `DELAY:`), snapshotting the argv of every codex process mid-run. */
  const runWithArgvSnapshot = (world: ExecWorld, prompt: string) =>
    Effect.gen(function* () {
      const run = yield* start({
        prompt,
        options: { workingDir: world.cwd, ...trusted },
        outputLastMessage: world.lastMessage,
      })
      const reader = yield* Effect.fork(Stream.runDrain(run.output))
      yield* Effect.promise(() => world.server.waitForRequests(1, 15_000))
      const argvs = [run.pid, ...descendants(run.pid)].flatMap((p) => cmdlineOf(p) ?? [])
      yield* Fiber.join(reader)
      const result = yield* run.result
      return { argvs: argvs.join("\n"), result, runId: run.runId }
    }).pipe(Effect.scoped, Effect.provide(world.layer))

  it.scopedLive("a prompt starting with '-' travels on stdin, not argv", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const prompt = "--version -h is not a flag here\nREPLY:dash ok\nDELAY:700"
      const { argvs, result, runId } = yield* runWithArgvSnapshot(world, prompt)

      assert.strictEqual(result.outcome._tag, "Completed")
      assert.strictEqual(world.server.requests[0]?.lastUserText, prompt)
      assert.include(argvs, "--output-last-message")
      assert.notInclude(argvs, "is not a flag here")
      yield* assertNoMarkedProcesses(runId)
    }),
  )

  it.scopedLive("a 200 KiB prompt travels on stdin intact, not argv", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const lines = ["REPLY:big ok", "DELAY:700"]
      for (let i = 0; lines.join("\n").length < 200 * 1024; i++)
        lines.push(`filler line ${i}: ${"abcdefghij".repeat(6)}`)
      const prompt = lines.join("\n")
      const { argvs, result, runId } = yield* runWithArgvSnapshot(world, prompt)

      assert.strictEqual(result.outcome._tag, "Completed")
      const received = world.server.requests[0]?.lastUserText ?? ""
      assert.strictEqual(received.length, prompt.length)
      assert.isTrue(received === prompt, "the server received the prompt changed")
      assert.include(argvs, "--output-last-message")
      assert.notInclude(argvs, "filler line")
      assert.isBelow(argvs.length, 4096)
      yield* assertNoMarkedProcesses(runId)
    }),
  )

  it.scopedLive("interrupt during a long command: stream ends, Interrupted, no process left", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const { run, reader, output, pids, token } = yield* startSleeper(world).pipe(
        Effect.provide(world.layer),
      )
      // codex and the sleep; an npm shim on Node < 22.15 adds itself (later ones exec codex)
      assert.isAtLeast(pids.length, 2, "codex and the sleep")

      yield* run.interrupt
      yield* Fiber.join(reader).pipe(Effect.timeout("10 seconds"))
      const result = yield* run.result

      assert.deepStrictEqual(result.outcome, {
        _tag: "Interrupted",
        threadId: threadIdOf(eventsIn(output)),
      })
      assert.isTrue(result.exitCode !== null || result.signal !== null, "exit reported")
      yield* assertAllGone(pids, run, token)
    }),
  )

  it.scopedLive(
    "interrupt during a command that dropped the marker and left codex's session: none left",
    () =>
      Effect.gen(function* () {
        const world = yield* makeWorld()
        const reported: Array<ReadonlyArray<ProcessIdentity>> = []
        const { run, reader, pids, token, sleepPid } = yield* startSleeper(
          world,
          (sleep) => `env -i setsid -w sh -c 'exec ${sleep}'`,
          { onProcessesSeen: (seen) => Effect.sync(() => void reported.push(seen)) },
        ).pipe(Effect.provide(world.layer))
        assert.notInclude(markedProcesses(run.runId), sleepPid, "the sleep is not marked")
        // What a worker persists for a later clean-up: the run reports the sleep's identity.
        yield* waitFor("a snapshot that saw the sleep", () =>
          reported.some((seen) => seen.some((p) => p.pid === sleepPid)) ? true : undefined,
        )
        assert.isTrue((yield* run.processesSeen).some((p) => p.pid === sleepPid))

        yield* run.interrupt
        yield* Fiber.join(reader).pipe(Effect.timeout("10 seconds"))
        assert.strictEqual((yield* run.result).outcome._tag, "Interrupted")
        yield* assertAllGone(pids, run, token)
      }),
  )

  it.scopedLive("interrupting the fiber that owns the run leaves no process", () =>
    Effect.gen(function* () {
      const world = yield* makeWorld()
      const ready = yield* Deferred.make<{
        pids: ReadonlyArray<number>
        runId: string
        token: string
      }>()
      const owner = yield* Effect.fork(
        Effect.gen(function* () {
          const { run, pids, token } = yield* startSleeper(world)
          yield* Deferred.succeed(ready, { pids, runId: run.runId, token })
          return yield* Effect.never
        }).pipe(Effect.scoped, Effect.provide(world.layer)),
      )
      // the owner ending first (e.g. it died setting up) must fail the test, not hang it
      const { pids, runId, token } = yield* Effect.raceFirst(
        Deferred.await(ready),
        Fiber.join(owner),
      )
      assert.isTrue(pids.every(isAlive))

      yield* Fiber.interrupt(owner)

      yield* assertAllGone(pids, { runId }, token)
    }),
  )

  it.scopedLive(
    "resume of a malformed id that codex turns into a new thread → ThreadMismatch",
    () =>
      Effect.gen(function* () {
        const world = yield* makeWorld()
        const done = yield* runIn(world, "Hello.\nREPLY:new thread", trusted, "not-a-uuid!!")

        const error = failureOf(done.result.outcome)
        assert(error._tag === "ThreadMismatch", error.message)
        assert.strictEqual(error.requested, "not-a-uuid!!")
        assert.strictEqual(error.actual, threadIdOf(done.events))
        assert.isFalse(isRetryable(error))
      }),
  )
})
