import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import { currentIdentity } from "../../src/processes/procfs.js"
import { writeWorker } from "../../src/store/workerFiles.js"
import { connectInProcess, DONE, text, writeTask } from "../support/mcpInProcess.js"

// `task_approve` / `task_decline` in-process (the answered request itself: test/e2e/appServer.test.ts).

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const connect = async (allowUnsafe = false) => {
  const session = await connectInProcess({ allowUnsafe })
  cleanups.push(session.close)
  return session
}

describe("task_approve and task_decline", () => {
  it("answer only a task waiting for approval: a finished one is a tool error saying so", async () => {
    const { call } = await connect(true)
    for (const tool of ["task_approve", "task_decline"]) {
      const r = await call(tool, { taskId: DONE })
      assert.isTrue(r.isError, tool)
      assert.include(text(r), "is not waiting for an approval", tool)
    }
  })

  it("task_approve answers a request for input with answers, checked against its questions", async () => {
    const { call, storeRoot } = await connect(true)
    const id = "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c98"
    const dir = writeTask(storeRoot, id, {
      state: "RUNNING",
      waiting: {
        for: "input",
        since: "2025-01-01T00:00:00Z",
        request: {
          kind: "input",
          questions: [{ id: "c", question: "Which colour?", options: ["Red", "Blue"] }],
        },
      },
    })
    // This process stands in for the task's live worker.
    await Effect.runPromise(writeWorker(dir, currentIdentity()))

    const wrong = await call("task_approve", { taskId: id, answers: ["Green"] })
    assert.isTrue(wrong.isError)
    assert.include(text(wrong), "is not one of the choices")
    const r = await call("task_approve", { taskId: id, answers: ["blue"] })

    assert.isNotTrue(r.isError, text(r))
    assert.strictEqual(text(r), `Task ${id}: answered.`)
    const answer = JSON.parse(readFileSync(join(dir, "approval.json"), "utf8"))
    assert.deepInclude(answer, { decision: "accept", answers: ["Blue"] })
  })

  it("are gated like task_send: a task recorded with options the gate refuses is refused", async () => {
    const { call, storeRoot } = await connect()
    const id = "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c99"
    writeTask(storeRoot, id, { exec: { config_overrides: ["sandbox_mode=danger-full-access"] } })
    const r = await call("task_approve", { taskId: id })
    assert.isTrue(r.isError)
    assert.include(text(r), `task_approve to task ${id} is refused`)
    assert.notInclude(text(r), "not waiting", "refused before anything is looked at")
  })
})

describe("task_send", () => {
  it("passes steer and a backend switch on to the task service", async () => {
    const { call, calls } = await connect(true)
    const r = await call("task_send", {
      taskId: DONE,
      prompt: "p",
      steer: true,
      backend: "app-server",
    })
    assert.isNotTrue(r.isError, text(r))
    assert.deepInclude(calls.sends[0] ?? {}, { steer: true, backend: "app-server" })
    const bad = await call("task_send", { taskId: DONE, prompt: "p", backend: "daemon" })
    assert.isTrue(bad.isError)
  })
})
