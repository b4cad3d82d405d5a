import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, TestClock } from "effect"
import { RUN_MARKER_VAR } from "../../src/processes/runMarker.js"
import { SLOT_RECHECK_MS, SLOTS_DIR, slotTickets, takeSlot } from "../../src/store/slots.js"
import { until } from "../support/workerHarness.js"

// Run slots of a store (issue 12, item 1): first come first served, at most N held at once, and a
// ticket whose owner is gone does not hold a slot.

const makeRoot = () =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "ct-slots-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

/** Takes a slot in its own scope, forked; `waited` turns true when it had to wait. */
const contender = (root: string, limit: number) =>
  Effect.gen(function* () {
    const state = { waited: false, holding: false }
    const scope = yield* Scope.make()
    const fiber = yield* Effect.fork(
      Effect.tap(
        Scope.extend(
          takeSlot(root, limit, { onWait: () => Effect.sync(() => (state.waited = true)) }),
          scope,
        ),
        () => Effect.sync(() => (state.holding = true)),
      ),
    )
    return { state, fiber, release: Scope.close(scope, Exit.void) }
  })

/** Lets the waiters look once more (virtual time), then gives their file reads real time. */
const poll = Effect.gen(function* () {
  yield* TestClock.adjust(SLOT_RECHECK_MS * 1.5)
  yield* Effect.promise(() => new Promise((r) => setTimeout(r, 30)))
})

describe("takeSlot", () => {
  it.scoped("waits while the limit is held and takes the slot when one is released", () =>
    Effect.gen(function* () {
      const root = yield* makeRoot()
      // One after the other: the slots lock's own retry waits would need the clock moved.
      const a = yield* contender(root, 2)
      yield* until("the first holder", () => a.state.holding)
      const b = yield* contender(root, 2)
      yield* until("the second holder", () => b.state.holding)
      const c = yield* contender(root, 2)
      yield* until("the third to wait", () => c.state.waited)
      yield* poll
      assert.isFalse(c.state.holding)
      assert.strictEqual(yield* slotTickets(root), 3)
      yield* b.release
      yield* poll
      yield* Fiber.join(c.fiber)
      assert.isTrue(c.state.holding)
      assert.isFalse(a.state.waited || b.state.waited)
      yield* a.release
      yield* c.release
      assert.strictEqual(yield* slotTickets(root), 0)
    }),
  )

  it.scoped("serves waiters first come first served", () =>
    Effect.gen(function* () {
      const root = yield* makeRoot()
      const holder = yield* contender(root, 1)
      yield* until("the holder", () => holder.state.holding)
      const first = yield* contender(root, 1)
      yield* until("the first waiter", () => first.state.waited)
      const second = yield* contender(root, 1)
      yield* until("the second waiter", () => second.state.waited)
      yield* holder.release
      yield* poll
      yield* Fiber.join(first.fiber)
      yield* poll
      assert.isFalse(second.state.holding, "the later waiter still waits")
      yield* first.release
      yield* poll
      yield* Fiber.join(second.fiber)
      yield* second.release
    }),
  )

  it.scoped("a waiter takes a released slot at once: it watches the tickets, no polling", () =>
    Effect.gen(function* () {
      const root = yield* makeRoot()
      const holder = yield* contender(root, 1)
      yield* until("the holder", () => holder.state.holding)
      const waiter = yield* contender(root, 1)
      yield* until("the waiter", () => waiter.state.waited)
      yield* holder.release
      // No clock moved: only the removal of the holder's ticket can wake the waiter.
      yield* until("the waiter to take the slot", () => waiter.state.holding)
      yield* waiter.release
    }),
  )

  it.scoped("a ticket whose owner died holds the slot while its run's codex lives on", () =>
    Effect.gen(function* () {
      const root = yield* makeRoot()
      // A worker SIGKILLed mid-turn: its ticket names a dead pid, its codex (marker) still runs.
      const gone = spawnSync("true").pid
      const codex = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn("sleep", ["60"], {
            stdio: "ignore",
            env: { ...process.env, [RUN_MARKER_VAR]: "run-of-the-dead-worker" },
          }),
        ),
        (p) => Effect.sync(() => p.kill("SIGKILL")),
      )
      const dir = join(root, SLOTS_DIR)
      yield* Effect.sync(() => {
        spawnSync("mkdir", ["-p", dir])
        writeFileSync(
          join(dir, "000000000001.json"),
          JSON.stringify({ pid: gone, start_time: "1", run_id: "run-of-the-dead-worker" }),
        )
      })
      const c = yield* contender(root, 1)
      yield* until("the waiter", () => c.state.waited)
      yield* poll
      assert.isFalse(c.state.holding, "two codex would run under --max-running 1")
      codex.kill("SIGKILL")
      yield* until(
        "the codex to be gone",
        () => codex.exitCode !== null || codex.signalCode !== null,
      )
      yield* poll
      yield* Fiber.join(c.fiber)
      assert.isTrue(c.state.holding)
      assert.notInclude(readdirSync(dir), "000000000001.json")
      yield* c.release
    }),
  )

  it.scoped("a ticket left by a dead process (SIGKILLed holder) does not hold a slot", () =>
    Effect.gen(function* () {
      const root = yield* makeRoot()
      // A pid that just exited, recorded as a ticket ahead of everyone.
      const gone = spawnSync("true").pid
      const dir = join(root, SLOTS_DIR)
      yield* Effect.sync(() => {
        spawnSync("mkdir", ["-p", dir])
        writeFileSync(
          join(dir, "000000000000.json"),
          JSON.stringify({ pid: gone, start_time: "1" }),
        )
      })
      const c = yield* contender(root, 1)
      yield* until("the slot", () => c.state.holding)
      assert.isFalse(c.state.waited)
      assert.notInclude(readdirSync(dir), "000000000000.json")
      yield* c.release
    }),
  )
})
