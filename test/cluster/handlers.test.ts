import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeOperations } from "../../src/cluster/handlers.js"
import { Tasks } from "../../src/tasks/Tasks.js"
import { FakeScripts } from "../../src/testing/index.js"
import { makeTasksWorld, settle } from "../support/tasksWorld.js"
import { realTick } from "../support/workerHarness.js"

// What a runner does with a task's messages, on the in-process Tasks world (real store, scripted
// codex): the engine delivers a persisted `Send` at least once, the runner queues it once.

describe("runner operations", () => {
  it.scoped(
    "a redelivered Send answers the first receipt and queues nothing; a new key queues anew",
    () =>
      Effect.gen(function* () {
        const w = yield* makeTasksWorld([
          FakeScripts.reply("one"),
          FakeScripts.reply("two", { delay: "1 hour" }),
          FakeScripts.reply("three"),
        ])
        yield* Effect.gen(function* () {
          const tasks = yield* Tasks
          const saved: Array<{ id: string; state: string }> = []
          const ops = yield* makeOperations("alpha", w.workingDir, (tasks) =>
            Effect.sync(() => saved.push(...tasks.map((t) => ({ id: t.id, state: t.state })))),
          )
          const { id } = yield* tasks.start({
            prompt: "first",
            options: { workingDir: w.workingDir, skipGitRepoCheck: true },
          })
          yield* settle(tasks.waitForTurn(id))
          const second = yield* settle(ops.send(id, "key-2", "second", undefined))
          assert.deepStrictEqual(
            { ...second, id: String(second.id) },
            {
              id,
              seq: second.seq,
              status: "started",
            },
          )
          yield* settle(Effect.repeat(realTick(2), { until: () => w.codex.requests.length === 2 }))
          // The same message again (the runner died before the engine stored its reply).
          const again = yield* settle(ops.send(id, "key-2", "second", undefined))
          assert.deepStrictEqual(again, second)
          const third = yield* settle(ops.send(id, "key-3", "third", undefined))
          assert.deepStrictEqual(
            { ...third, id: String(third.id) },
            {
              id,
              seq: second.seq + 1,
              status: "queued",
              position: 1,
            },
          )
          yield* settle(tasks.waitForTurn(id, third.seq))
          assert.deepStrictEqual(
            w.codex.requests.map((r) => r.prompt),
            ["first", "second", "third"],
          )
          const status = yield* ops.status(id)
          assert.deepInclude(status, { host: "alpha", state: "STOPPED", turns: 3 })
          // Each queued prompt saved the task's snapshot before answering (what `ls` shows).
          assert.deepStrictEqual(saved, [
            { id, state: "RUNNING" },
            { id, state: "RUNNING" },
            { id, state: "RUNNING" },
          ])
        }).pipe(Effect.provide(w.layer))
      }),
  )

  it.scoped(
    "a failure comes back as a FleetError the client can print (a usage error stays one)",
    () =>
      Effect.gen(function* () {
        const w = yield* makeTasksWorld([FakeScripts.reply("one")])
        yield* Effect.gen(function* () {
          const tasks = yield* Tasks
          const ops = yield* makeOperations("alpha", w.workingDir, () => Effect.void)
          const { id } = yield* tasks.start({
            prompt: "first",
            options: { workingDir: w.workingDir, skipGitRepoCheck: true },
          })
          yield* settle(tasks.waitForTurn(id))
          const missing = yield* Effect.flip(ops.status("nosuchtask"))
          assert.deepInclude(missing, { _tag: "FleetError", usage: false })
          assert.match(missing.message, /nosuchtask/)
          const empty = yield* Effect.flip(ops.send(id, "k", "   ", undefined))
          assert.deepInclude(empty, {
            _tag: "FleetError",
            message: "The prompt is empty.",
            usage: true,
          })
        }).pipe(Effect.provide(w.layer))
      }),
  )
})
