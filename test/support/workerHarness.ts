import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert } from "@effect/vitest"
import { Deferred, type Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import type { RetryPolicy } from "../../src/domain/retryPolicy.js"
import type { TaskMeta } from "../../src/domain/task.js"
import type { Handshake, WorkerRequest } from "../../src/launcher/protocol.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { type FakeScript, FakeScripts, makeFakeCodexExec } from "../../src/testing/index.js"
import { runWorker } from "../../src/worker/Worker.js"
import { makeWorkerControl, type StopMode, WorkerControl } from "../../src/worker/WorkerControl.js"

// The worker program in-process, for tests: the scripted CodexExec instead of codex, a real store
// in a temp directory, and a WorkerControl the test uses to request stops. Fake delays run on the
// TestClock, so a scripted "1 hour" turn lasts exactly until the test moves the clock.

export const tempRoot = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-worker-run-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

export const policy: RetryPolicy = { maxRetries: 2, baseDelayMs: 1_000, maxDelayMs: 60_000 }

export const startRequest = (
  prompt: string,
  retry: RetryPolicy = policy,
): Extract<WorkerRequest, { _tag: "Start" }> => ({
  _tag: "Start",
  storeRoot: "unused-in-process",
  codexBin: "unused-in-process",
  prompt,
  title: "worker test",
  options: { workingDir: "/tmp", skipGitRepoCheck: true },
  retry,
})

export const resumeRequest = (
  taskId: string,
  retry: RetryPolicy = policy,
): Extract<WorkerRequest, { _tag: "Resume" }> => ({
  _tag: "Resume",
  storeRoot: "unused-in-process",
  codexBin: "unused-in-process",
  taskId,
  retry,
})

/** Real time passing (the TestClock does not move it): lets file I/O and fibers progress. */
export const realTick = (ms = 2) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits in real time until `probe` holds. */
export const until = (what: string, probe: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_500; i++) {
      if (probe()) return
      yield* realTick()
    }
    assert.fail(`timed out waiting for ${what}`)
  })

/**
 * A store in a fresh temp root plus a fake codex playing `scripts`. `wrapStore` lets a test give
 * the worker a store whose methods observe or fail (the test's own `store` is the real one).
 */
export const setup = (
  scripts: ReadonlyArray<FakeScript>,
  wrapStore: (store: TaskStore) => TaskStore = (s) => s,
) =>
  Effect.gen(function* () {
    const root = join(yield* tempRoot, "store")
    const fake = makeFakeCodexExec(scripts)
    const store = yield* Effect.provide(TaskStore, TaskStore.layer(root))
    const storeLayer = Layer.succeed(TaskStore, wrapStore(store))
    return { root, fake, store, layer: Layer.merge(fake.layer, storeLayer) }
  })

export type World = Effect.Effect.Success<ReturnType<typeof setup>>

/**
 * Forks a worker on `request`; its handshake and a way to ask it to stop come back. `onAnswer`
 * runs inside the worker at the moment it answers (what a CLI would see on getting the id).
 */
export const launch = (world: World, request: WorkerRequest, onAnswer?: (h: Handshake) => void) =>
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
export const drive = (fiber: Fiber.RuntimeFiber<void>, step: Duration.DurationInput = "1 minute") =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_500; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return yield* Fiber.join(fiber)
      yield* TestClock.adjust(step)
      yield* realTick()
    }
    assert.fail("the worker did not finish")
  })

/** Starts a task and waits for its `Started` handshake; returns the task id and location. */
export const startTask = (world: World, prompt: string, retry?: RetryPolicy) =>
  Effect.gen(function* () {
    const worker = yield* launch(world, startRequest(prompt, retry))
    const answer = yield* worker.handshake
    assert.strictEqual(answer._tag, "Started", JSON.stringify(answer))
    const id = (answer as { id: string }).id
    const loc = yield* world.store.resolve(id)
    return { ...worker, id, loc }
  })

/** `task.log` as entries (`{ raw }` for a line that is not JSON); empty while it does not exist. */
export const logOf = (world: World, id: string): ReadonlyArray<Record<string, unknown>> => {
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

export const ofType = (log: ReadonlyArray<Record<string, unknown>>, type: string) =>
  log.filter((e) => e.type === type)

export const metaOf = (world: World, id: string): TaskMeta =>
  JSON.parse(readFileSync(join(world.root, id, "task.json"), "utf8")) as TaskMeta

export const resultOf = (world: World, id: string): string | undefined => {
  const path = join(world.root, id, "task.result")
  return existsSync(path) ? readFileSync(path, "utf8") : undefined
}

/** Every regular file below `dir` (relative paths). */
export const filesBelow = (dir: string, prefix = ""): Array<string> => {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory()
      ? filesBelow(path, `${prefix}${name}/`)
      : [`${prefix}${name}`]
  })
}

/** Temporary result files left anywhere in the store. */
export const strayResults = (world: World) =>
  filesBelow(world.root).filter((f) => f.includes(".result."))

// The usage codex 0.169 reports (FakeScripts.reply leaves out reasoning_output_tokens; see the
// last test of this file).
export const usage = {
  input_tokens: 100,
  cached_input_tokens: 0,
  output_tokens: 10,
  reasoning_output_tokens: 0,
}

/** A turn answering `text`, optionally after `delay` on the TestClock. */
export const reply = (text: string, delay?: Duration.DurationInput): FakeScript => ({
  steps: [
    { event: { type: "thread.started" } },
    { event: { type: "turn.started" } },
    ...(delay === undefined ? [] : [{ delay }]),
    { event: { type: "item.completed", item: { id: "i0", type: "agent_message", text } } },
    { event: { type: "turn.completed", usage } },
  ],
})
export const transient = () =>
  FakeScripts.turnFailed("stream disconnected before completion: error sending request")
