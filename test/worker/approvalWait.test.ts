import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { TaskStore } from "../../src/store/TaskStore.js"
import { answerApproval } from "../../src/tasks/approvals.js"
import {
  type FakeAppServer,
  fakeReplyTurn,
  makeFakeAppServer,
} from "../../src/testing/AppServerFake.js"
import { makeFakeProcesses } from "../../src/testing/ProcessesFake.js"
import { drive, launch, realTick, startRequest, tempRoot } from "../support/workerHarness.js"

// The worker waiting for an answer to codex's request (worker/approval.ts) on the app-server
// client over the scripted fake app-server (the real codex: test/e2e/appServer.test.ts).

/** A worker over `fake` starting "Make it." on app-server with `--approvals ask`, once started. */
const startAsking = (fake: FakeAppServer) =>
  Effect.gen(function* () {
    const root = `${yield* tempRoot}/store`
    const store = yield* Effect.provide(TaskStore, TaskStore.layer(root))
    const processes = yield* makeFakeProcesses()
    const world = {
      root,
      store,
      fake: undefined as never, // the harness's exec fake is not used: the app-server fake is
      layer: Layer.merge(
        fake.layer.pipe(Layer.provide(processes.layer)),
        Layer.succeed(TaskStore, store),
      ),
    }
    const request = startRequest("Make it.")
    const worker = yield* launch(world, {
      ...request,
      options: { ...request.options, backend: "app-server", approvals: "ask" },
    })
    const answer = yield* worker.handshake
    assert.strictEqual(answer._tag, "Started", JSON.stringify(answer))
    const loc = yield* store.resolve((answer as { id: string }).id)
    return { world, store, worker, loc }
  })

describe("a start whose first turn asks at once (--approvals ask)", () => {
  it.scoped("waits for the answer even though codex asked before the task directory existed", () =>
    Effect.gen(function* () {
      // codex asks in the same instant it reports the thread: before the worker has published
      // the task (it was declined unseen, the e2e flaked under load).
      const fake = makeFakeAppServer({
        turns: [
          [
            { request: "item/commandExecution/requestApproval", params: { command: "make" } },
            ...fakeReplyTurn("made"),
          ],
        ],
      })
      const { store, worker, loc } = yield* startAsking(fake)
      for (let i = 0; i < 500; i++) {
        if ((yield* store.read(loc)).waiting?.for === "approval") break
        assert.deepStrictEqual(fake.answers, [], "not answered before anyone could")
        yield* TestClock.adjust("50 millis")
        yield* realTick()
      }
      assert.strictEqual((yield* store.read(loc)).waiting?.request?.command, "make")

      yield* answerApproval(loc.id, { decision: "accept" }).pipe(
        Effect.provideService(TaskStore, store),
      )
      yield* drive(worker.fiber, "100 millis")

      assert.deepStrictEqual(fake.answers, [
        { method: "item/commandExecution/requestApproval", result: { decision: "accept" } },
      ])
      const meta = yield* store.read(loc)
      assert.strictEqual(meta.last_result, "made")
      assert.isUndefined(meta.waiting)
    }),
  )
})
