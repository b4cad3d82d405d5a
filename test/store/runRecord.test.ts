import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readRunRecord, recordRunProcesses, writeRunRecord } from "../../src/store/runRecord.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-run-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const alive = (pids: ReadonlyArray<number>) => (p: { pid: number }) =>
  Effect.succeed(pids.includes(p.pid))

describe("run.json", () => {
  it.scoped("reads the marker-only file of earlier versions, and nothing from garbage", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      assert.isTrue(Option.isNone(yield* readRunRecord(dir)))
      yield* Effect.promise(() => writeFile(join(dir, "run.json"), '{"run_id":"abc"}\n'))
      assert.deepStrictEqual(
        yield* readRunRecord(dir),
        Option.some({ runId: "abc", processes: [] }),
      )
      yield* Effect.promise(() => writeFile(join(dir, "run.json"), "{not json"))
      assert.isTrue(Option.isNone(yield* readRunRecord(dir)))
    }),
  )

  it.scoped(
    "records seen processes of its run (snake_case), drops the dead, ignores other runs",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* writeRunRecord(dir, "run-1")
        const a = { pid: 10, startTime: "100", bootId: "b" }
        const b = { pid: 11, startTime: "101" }
        yield* recordRunProcesses(dir, "run-1", [a, b], alive([10, 11]))
        yield* recordRunProcesses(dir, "run-1", [a], alive([10]))
        const stored = JSON.parse(
          yield* Effect.promise(() => readFile(join(dir, "run.json"), "utf8")),
        )
        assert.deepStrictEqual(stored, {
          run_id: "run-1",
          processes: [{ pid: 10, start_time: "100", boot_id: "b" }],
        })
        yield* recordRunProcesses(dir, "run-0", [b], alive([10, 11]))
        const after = yield* readRunRecord(dir)
        assert.deepStrictEqual(
          Option.map(after, (r) => r.processes.map((p) => p.pid)),
          Option.some([10]),
        )
      }),
  )
})
