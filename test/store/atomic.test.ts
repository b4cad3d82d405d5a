import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { ensurePrivateDir, syncDir, writeFileAtomic } from "../../src/store/atomic.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-atomic-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

describe("writeFileAtomic", () => {
  it.scoped("writes private files and leaves no temporary file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.json")
      yield* writeFileAtomic(path, "one")
      yield* writeFileAtomic(path, "two")
      assert.strictEqual(yield* Effect.promise(() => readFile(path, "utf8")), "two")
      assert.strictEqual((yield* Effect.promise(() => stat(path))).mode & 0o777, 0o600)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), ["task.json"])
    }),
  )

  it.scopedLive("readers only ever see the old or the new content of a 1 MB file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "big")
      const size = 1024 * 1024
      const contents = ["a", "b", "c"].map((c) => c.repeat(size))
      yield* writeFileAtomic(path, contents[0]!)
      let done = false
      const seen = new Set<string>()
      const writer = Effect.forEach(
        Array.from({ length: 30 }, (_, i) => contents[i % 3]!),
        (text) => writeFileAtomic(path, text),
      ).pipe(Effect.ensuring(Effect.sync(() => (done = true))))
      const reader = Effect.gen(function* () {
        let reads = 0
        while (!done || reads < 5) {
          const text = yield* Effect.promise(() => readFile(path, "utf8"))
          assert.strictEqual(text.length, size, "partial file seen")
          assert.isTrue(text === contents[0] || text === contents[1] || text === contents[2])
          seen.add(text[0]!)
          reads++
        }
        return reads
      })
      const [, reads] = yield* Effect.all([writer, reader], { concurrency: 2 })
      assert.isAbove(reads, 4)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), ["big"])
    }),
  )

  it.scoped("removes its temporary file when the rename fails", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const target = join(dir, "occupied")
      yield* Effect.promise(async () => {
        await mkdir(target)
        await writeFile(join(target, "child"), "x")
      })
      const exit = yield* Effect.exit(writeFileAtomic(target, "data"))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.include(String(exit.cause), "StoreError")
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), ["occupied"])
    }),
  )

  it.scoped("fails with a StoreError naming the path when the directory is missing", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "missing", "task.json")
      const error = yield* Effect.flip(writeFileAtomic(path, "x"))
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, path)
    }),
  )
})

describe("durable writes", () => {
  it.scoped("writeFileAtomic with durable (and a mode) writes like without it", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "0000000001.json")
      yield* writeFileAtomic(path, "one", { durable: true })
      assert.strictEqual((yield* Effect.promise(() => stat(path))).mode & 0o777, 0o600)
      yield* writeFileAtomic(path, "two", { durable: true, mode: 0o640 })
      assert.strictEqual(yield* Effect.promise(() => readFile(path, "utf8")), "two")
      assert.strictEqual((yield* Effect.promise(() => stat(path))).mode & 0o777, 0o640)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), ["0000000001.json"])
    }),
  )

  it.scoped("syncDir fsyncs a directory and fails with a StoreError on a missing one", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* syncDir(dir)
      const error = yield* Effect.flip(syncDir(join(dir, "missing")))
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, `fsync ${join(dir, "missing")} failed`)
    }),
  )
})

describe("ensurePrivateDir", () => {
  it.scoped("creates nested directories with mode 0700", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const nested = join(dir, "a", "b")
      yield* ensurePrivateDir(nested)
      yield* ensurePrivateDir(nested)
      for (const p of [join(dir, "a"), nested]) {
        assert.strictEqual((yield* Effect.promise(() => stat(p))).mode & 0o777, 0o700)
      }
    }),
  )
})
