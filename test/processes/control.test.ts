import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { isAlive, killRun, liveOf, makeSeen } from "../../src/processes/control.js"
import { RUN_MARKER_VAR } from "../../src/processes/Processes.js"
import { makeFakeProcesses } from "../../src/testing/ProcessesFake.js"

describe("killRun", () => {
  it.effect("kills the recorded and the marked processes, never a recycled pid", () =>
    Effect.gen(function* () {
      const fake = yield* makeFakeProcesses([
        { pid: 10, command: "sleep 300" },
        { pid: 11, env: { [RUN_MARKER_VAR]: "run" } },
        { pid: 12, env: { [RUN_MARKER_VAR]: "other-run" } },
        { pid: 13 },
      ])
      const recorded = [
        { pid: 10, startTime: "1000" },
        // pid 13 now belongs to a process started later than the recorded one
        { pid: 13, startTime: "1" },
      ]
      const killed = yield* killRun({ marker: "run", identities: recorded }).pipe(
        Effect.provide(fake.layer),
      )
      assert.strictEqual(killed, 2)
      assert.sameMembers([...(yield* fake.alive)], [12, 13])
      assert.deepStrictEqual(
        (yield* fake.signals).map((s) => [s.pid, s.signal]),
        [
          [10, "SIGKILL"],
          [11, "SIGKILL"],
        ],
      )
    }),
  )

  it.effect("liveOf is empty once everything is gone", () =>
    Effect.gen(function* () {
      const fake = yield* makeFakeProcesses([{ pid: 10 }])
      const run = { identities: [{ pid: 10, startTime: "1000" }] }
      assert.lengthOf(yield* liveOf(run).pipe(Effect.provide(fake.layer)), 1)
      yield* fake.exit(10)
      assert.lengthOf(yield* liveOf(run).pipe(Effect.provide(fake.layer)), 0)
    }),
  )
})

describe("makeSeen", () => {
  it.effect("keeps a descendant that left the tree while alive, forgets the dead", () =>
    Effect.gen(function* () {
      const fake = yield* makeFakeProcesses([
        { pid: 100, command: "codex" },
        { pid: 101, ppid: 100, command: "bash -lc …" },
        { pid: 102, ppid: 101, command: "setsid -w sh -c …" },
        { pid: 103, ppid: 102, command: "sleep 300" },
      ])
      const seen = yield* makeSeen(100).pipe(Effect.provide(fake.layer))
      assert.isTrue(yield* seen.snapshot, "new processes")
      assert.isFalse(yield* seen.snapshot, "nothing new")
      // codex kills the command's group: the sleep is reparented to init, out of codex's tree
      yield* fake.exit(101)
      yield* fake.exit(102)
      yield* seen.snapshot
      assert.sameMembers(
        (yield* seen.current).map((p) => p.pid),
        [100, 103],
      )
      const sleep = (yield* seen.current).find((p) => p.pid === 103)!
      assert.isTrue(yield* isAlive(sleep).pipe(Effect.provide(fake.layer)))
    }),
  )
})
