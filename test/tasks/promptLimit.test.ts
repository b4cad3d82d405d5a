import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { MAX_PROMPT_CHARS, promptTooLong } from "../../src/domain/promptLimit.js"
import { TaskMeta } from "../../src/domain/task.js"
import type { WorkerRequest } from "../../src/launcher/protocol.js"
import { WorkerLauncher } from "../../src/launcher/WorkerLauncher.js"
import * as ProcessesLive from "../../src/processes/live.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { Tasks, TasksConfig } from "../../src/tasks/Tasks.js"

// codex 0.169 refuses a prompt over 1 << 20 characters (code points) after it has printed
// `thread.started`: the task would be created, then die. `start` and `send` refuse it first.

const tempRoot = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-prompt-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const TOO_LONG = `The prompt is longer than codex accepts (at most ${MAX_PROMPT_CHARS} characters); put the material in a file and name it in the prompt.`

describe("codex's prompt length limit", () => {
  it("counts code points, as codex does", () => {
    assert.isUndefined(promptTooLong("a".repeat(MAX_PROMPT_CHARS)))
    assert.strictEqual(promptTooLong("a".repeat(MAX_PROMPT_CHARS + 1)), TOO_LONG)
    // Two UTF-16 units each, one character each for codex.
    assert.isUndefined(promptTooLong("😀".repeat(MAX_PROMPT_CHARS)))
    assert.strictEqual(promptTooLong(`${"😀".repeat(MAX_PROMPT_CHARS)}a`), TOO_LONG)
  })

  it.scoped("start and send refuse a longer prompt before anything is launched or queued", () =>
    Effect.gen(function* () {
      const root = join(yield* tempRoot, "store")
      const launched: Array<WorkerRequest> = []
      const launcher = Layer.succeed(WorkerLauncher, {
        launch: (request) =>
          Effect.sync(() => {
            launched.push(request)
            return {
              pid: process.pid,
              handshake: Effect.succeed({ _tag: "Accepted", id: "t" } as const),
            }
          }),
      })
      const storeLayer = TaskStore.layer(root)
      const layer = Tasks.Default.pipe(
        Layer.provideMerge(storeLayer),
        Layer.provide(launcher),
        Layer.provide(TasksConfig.layer("/usr/bin/codex")),
        Layer.provide(ProcessesLive.layer),
      )
      const store = yield* Effect.provide(TaskStore, storeLayer)
      const loc = yield* store.create(
        Schema.decodeUnknownSync(TaskMeta)({
          id: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d",
          state: "STOPPED",
          created_at: "2026-11-26T20:01:47.000Z",
          updated_at: "2026-11-26T20:01:47.000Z",
          schema_version: 1,
        }),
      )
      const long = "x".repeat(MAX_PROMPT_CHARS + 1)
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const started = yield* Effect.flip(
          tasks.start({ prompt: long, options: { workingDir: root, skipGitRepoCheck: true } }),
        )
        assert.deepStrictEqual([started._tag, started.message], ["UsageError", TOO_LONG])
        const sent = yield* Effect.flip(tasks.send(loc.id, long))
        assert.deepStrictEqual([sent._tag, sent.message], ["UsageError", TOO_LONG])
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(launched, [], "no worker was launched")
      assert.deepStrictEqual(yield* store.inboxPending(loc), [], "nothing was queued")
    }),
  )
})
