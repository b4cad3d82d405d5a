import { existsSync, readdirSync, readFileSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { makeOperations } from "../../src/cluster/handlers.js"
import { TaskStore } from "../../src/store/TaskStore.js"
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

  it.scoped(
    "a retried Answer reports the first outcome once the answer landed; a new one is refused",
    () =>
      Effect.gen(function* () {
        const w = yield* makeTasksWorld([FakeScripts.reply("one", { delay: "1 hour" })])
        yield* Effect.gen(function* () {
          const tasks = yield* Tasks
          const store = yield* TaskStore
          const ops = yield* makeOperations("alpha", w.workingDir, () => Effect.void)
          const { id } = yield* tasks.start({
            prompt: "first",
            options: { workingDir: w.workingDir, skipGitRepoCheck: true },
          })
          const loc = yield* tasks.resolve(id)
          // The worker met codex's request (as an app-server run with --approvals ask does).
          yield* store.update(loc, (m) => ({
            ...m,
            waiting: {
              for: "approval",
              since: "2026-01-01T00:00:00Z",
              request: { kind: "command", command: "touch approved.txt" },
            },
          }))
          const wrong = yield* Effect.flip(
            ops.answer(id, { key: "a0", decision: "accept", answers: ["yes"] }),
          )
          assert.deepInclude(wrong, { _tag: "FleetError", usage: true })
          assert.match(wrong.message, /waits for approval, not for input/)

          const first = yield* ops.answer(id, { key: "a1", decision: "accept" })
          assert.deepStrictEqual(first, { id, waiting: "approval" })
          const answerFile = join(loc.dir, "approval.json")
          assert.deepInclude(JSON.parse(readFileSync(answerFile, "utf8")), { decision: "accept" })
          // The worker took the answer; the reply to the client was lost, and it tries again.
          unlinkSync(answerFile)
          yield* store.update(loc, ({ waiting: _, ...m }) => m)
          const again = yield* ops.answer(id, { key: "a1", decision: "accept" })
          assert.deepStrictEqual(again, first)
          assert.isFalse(existsSync(answerFile), "the retry left no second answer")
          // Another approve (another key) finds nothing to answer, as a local one would.
          const late = yield* Effect.flip(ops.answer(id, { key: "a2", decision: "decline" }))
          assert.deepInclude(late, { _tag: "FleetError", usage: false })
          assert.match(late.message, /is not waiting for an approval or an answer/)
        }).pipe(Effect.provide(w.layer))
      }),
  )

  it.scoped(
    "a steer's receipt is kept once the prompt is queued: redelivered (even mid-wait) it is not queued again",
    () =>
      Effect.gen(function* () {
        const w = yield* makeTasksWorld([
          FakeScripts.reply("one", { delay: "1 hour" }),
          FakeScripts.reply("steered"),
          FakeScripts.reply("plain"),
        ])
        yield* Effect.gen(function* () {
          const tasks = yield* Tasks
          const store = yield* TaskStore
          const ops = yield* makeOperations("alpha", w.workingDir, () => Effect.void)
          const { id } = yield* tasks.start({
            prompt: "first",
            options: { workingDir: w.workingDir, skipGitRepoCheck: true, backend: "app-server" },
          })
          const loc = yield* tasks.resolve(id)
          const kept = () => {
            const dir = join(loc.dir, "cluster-sent")
            return existsSync(dir) ? readdirSync(dir).length : 0
          }
          // The runner dies while the steer waits for the worker's decision: the engine
          // delivers the message again to the runner that takes the task over.
          const first = yield* Effect.fork(
            ops.send(id, "s1", "steer me", { steer: true, backend: "app-server" }),
          )
          yield* settle(Effect.repeat(realTick(2), { until: () => kept() === 1 }), "1 millis")
          yield* Fiber.interrupt(first)
          const pending = yield* store.inboxPending(loc)
          assert.deepStrictEqual(
            pending.map((e) => e.prompt),
            ["steer me"],
          )
          // This world's codex cannot steer: the worker leaves it queued, and the retry says so.
          const again = yield* settle(ops.send(id, "s1", "steer me", { steer: true }))
          assert.deepStrictEqual(
            { ...again, id: String(again.id) },
            { id, seq: pending[0]?.seq ?? -1, status: "queued", position: 1 },
          )
          const third = yield* settle(ops.send(id, "s1", "steer me", { steer: true }))
          assert.deepStrictEqual(third, again)
          // Queued once: no second entry, whether the one is still waiting, taken, or already
          // run (the first turn's delay may run out on the TestClock meanwhile); codex gets the
          // prompt exactly once (below).
          const entries = [
            ...(yield* store.inboxPending(loc)),
            ...(yield* store.inboxInFlight(loc)),
          ]
          assert.isTrue(
            entries.every((e) => e.seq === again.seq),
            `queued once: ${JSON.stringify(entries.map((e) => e.seq))}`,
          )
          yield* settle(tasks.waitForTurn(id, again.seq))
          assert.deepStrictEqual(
            w.codex.requests.map((r) => r.prompt),
            ["first", "steer me"],
          )
        }).pipe(Effect.provide(w.layer))
      }),
  )
})
