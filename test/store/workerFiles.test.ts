import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ProcessesLive from "../../src/processes/live.js"
import { identityOf as processIdentity } from "../../src/processes/procfs.js"
import { clearWorker, workerAlive, writeWorker } from "../../src/store/workerFiles.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-worker-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const child = (command: string, args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn(command, args, { stdio: "ignore" })),
    (c) => Effect.promise(() => stop(c)),
  )

const stop = async (c: ChildProcess) => {
  if (c.exitCode !== null || c.signalCode !== null) return
  const exited = once(c, "exit")
  c.kill("SIGKILL")
  await exited
}

const writePid = (dir: string, text: string) =>
  Effect.promise(() => writeFile(join(dir, "task.pid"), text))

describe("worker records", () => {
  it.scoped("a recorded worker is alive only while the same process runs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const me = processIdentity(process.pid)!
      yield* writeWorker(dir, me)
      assert.strictEqual(
        yield* Effect.promise(() => readFile(join(dir, "task.pid"), "utf8")),
        `${process.pid}\n`,
      )
      const json = JSON.parse(
        yield* Effect.promise(() => readFile(join(dir, "worker.json"), "utf8")),
      )
      assert.strictEqual(json.start_time, me.startTime)
      assert.strictEqual(yield* workerAlive(dir), true)
      // Same pid, different start time: a recycled pid is not our worker.
      yield* writeWorker(dir, { ...me, startTime: "1" })
      assert.strictEqual(yield* workerAlive(dir), false)
    }).pipe(Effect.provide(ProcessesLive.layer)),
  )

  it.scoped("clearWorker removes the record, only if it names the expected worker", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const me = processIdentity(process.pid)!
      yield* writeWorker(dir, me)
      yield* clearWorker(dir, { ...me, startTime: "1" })
      assert.strictEqual(yield* workerAlive(dir), true)
      yield* clearWorker(dir, me)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
      assert.strictEqual(yield* workerAlive(dir), false)
      yield* clearWorker(dir)
    }).pipe(Effect.provide(ProcessesLive.layer)),
  )

  it.scopedLive(
    "a bare task.pid (Rust tool) is unknown only for a live codex-looking process",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const codexLike = yield* child("bash", ["-c", "exec -a codex sleep 30"])
        const other = yield* child("sleep", ["30"])
        yield* Effect.sleep("100 millis")
        yield* writePid(dir, `${codexLike.pid}\n`)
        assert.strictEqual(yield* workerAlive(dir), "unknown")
        yield* writePid(dir, `${other.pid}\n`)
        assert.strictEqual(yield* workerAlive(dir), false)
        yield* Effect.promise(() => stop(codexLike))
        yield* writePid(dir, `${codexLike.pid}\n`)
        assert.strictEqual(yield* workerAlive(dir), false)
        yield* writePid(dir, "not a pid")
        assert.strictEqual(yield* workerAlive(dir), false)
      }).pipe(Effect.provide(ProcessesLive.layer)),
  )
})
