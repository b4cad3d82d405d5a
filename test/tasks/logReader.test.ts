import { appendFileSync, closeSync, openSync, writeSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref, TestServices } from "effect"
import { type ReadLogStats, readLog } from "../../src/tasks/logReader.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-logreader-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

/** Reads `path` with `options`, collecting each delivered line as a string. */
const collect = (path: string, options: Parameters<typeof readLog>[2] = {}) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const stats: ReadLogStats = { bytesRead: 0 }
    yield* readLog(
      path,
      (batch) => Effect.sync(() => lines.push(...batch.map((b) => b.toString("utf8")))),
      options,
      stats,
    )
    return { lines, stats }
  })

const line = (i: number) => JSON.stringify({ type: "item.completed", n: i, pad: "x".repeat(200) })

describe("readLog", () => {
  it.scopedLive("-n on a 50 MB log reads only the tail and returns the last N lines", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      // ~230 bytes a line → about 230 000 lines, written in big chunks.
      const fd = openSync(path, "w")
      let total = 0
      let count = 0
      while (total < 50 * 1024 * 1024) {
        const chunk = `${Array.from({ length: 5_000 }, (_, k) => line(count + k)).join("\n")}\n`
        count += 5_000
        total += writeSync(fd, chunk)
      }
      closeSync(fd)
      const { lines, stats } = yield* collect(path, { lastLines: 3 })
      assert.deepStrictEqual(lines, [line(count - 3), line(count - 2), line(count - 1)])
      assert.isBelow(stats.bytesRead, 1024 * 1024, "only the tail is read")
      assert.isAbove(stats.bytesRead, 0)
    }),
  )

  it.scopedLive("-n larger than the file returns every line", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      yield* Effect.promise(() => writeFile(path, "a\nb\nc\n"))
      assert.deepStrictEqual((yield* collect(path, { lastLines: 10 })).lines, ["a", "b", "c"])
      assert.deepStrictEqual((yield* collect(path, { lastLines: 3 })).lines, ["a", "b", "c"])
      assert.deepStrictEqual((yield* collect(path, { lastLines: 2 })).lines, ["b", "c"])
      assert.deepStrictEqual((yield* collect(path, { lastLines: 0 })).lines, [])
    }),
  )

  it.scopedLive("a final line without a trailing newline is delivered and counts as a line", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      yield* Effect.promise(() => writeFile(path, "one\ntwo\nthree"))
      assert.deepStrictEqual((yield* collect(path)).lines, ["one", "two", "three"])
      assert.deepStrictEqual((yield* collect(path, { lastLines: 1 })).lines, ["three"])
      assert.deepStrictEqual((yield* collect(path, { lastLines: 2 })).lines, ["two", "three"])
    }),
  )

  it.scopedLive("a missing file reads as empty (a task whose log does not exist yet)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      assert.deepStrictEqual((yield* collect(join(dir, "task.log"), { lastLines: 5 })).lines, [])
    }),
  )

  it.scopedLive("follow delivers a line written in two parts once, complete", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      yield* Effect.promise(() => writeFile(path, '{"n":1}\n'))
      const done = yield* Ref.make(false)
      const seen: Array<string> = []
      const fiber = yield* readLog(
        path,
        (batch) => Effect.sync(() => seen.push(...batch.map((b) => b.toString("utf8")))),
        { follow: { done: Ref.get(done) } },
      ).pipe(Effect.fork)
      const until = (what: string, cond: () => boolean) =>
        Effect.gen(function* () {
          for (let i = 0; i < 200 && !cond(); i++) yield* Effect.sleep("25 millis")
          assert.isTrue(cond(), `timed out waiting for ${what}`)
        })
      yield* until("the first line", () => seen.length === 1)
      // Half a line, then a pause long enough for several watcher wake-ups and the fallback.
      appendFileSync(path, '{"n":2,"text":"first ha')
      yield* Effect.sleep("1500 millis")
      assert.deepStrictEqual(seen, ['{"n":1}'], "a half line is never delivered")
      appendFileSync(path, 'lf and second half"}\n{"n":3}\n')
      yield* until("the completed lines", () => seen.length === 3)
      yield* Ref.set(done, true)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(seen, [
        '{"n":1}',
        '{"n":2,"text":"first half and second half"}',
        '{"n":3}',
      ])
    }),
  )

  // On the TestClock the 1 s re-check never comes: only a file event can deliver the append.
  it.scoped("follow delivers an append through file watching alone (log -f)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      yield* Effect.promise(() => writeFile(path, "first\n"))
      const seen: Array<string> = []
      const second = yield* Deferred.make<void>()
      const fiber = yield* readLog(
        path,
        (batch) =>
          Effect.gen(function* () {
            seen.push(...batch.map((b) => b.toString("utf8")))
            if (seen.length >= 2) yield* Deferred.succeed(second, undefined)
          }),
        { follow: { done: Effect.succeed(false) } },
      ).pipe(Effect.fork)
      // The first line is out once the follow is watching (the watcher exists before each read).
      yield* TestServices.provideLive(
        Effect.gen(function* () {
          while (seen.length === 0) yield* Effect.sleep("10 millis")
        }),
      )
      appendFileSync(path, "appended\n")
      const woke = yield* Deferred.await(second).pipe(
        Effect.as(true),
        Effect.race(TestServices.provideLive(Effect.as(Effect.sleep("10 seconds"), false))),
      )
      yield* Fiber.interrupt(fiber)
      assert.isTrue(woke, "the append reached the follower without the re-check")
      assert.deepStrictEqual(seen, ["first", "appended"])
    }),
  )

  it.scopedLive("follow stops once done is true, after draining everything written before", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      // The log does not exist yet when following starts (`log -f` right after `start`).
      const done = yield* Ref.make(false)
      const seen: Array<string> = []
      const fiber = yield* readLog(
        path,
        (batch) => Effect.sync(() => seen.push(...batch.map((b) => b.toString("utf8")))),
        { follow: { done: Ref.get(done) } },
      ).pipe(Effect.fork)
      yield* Effect.sleep("200 millis")
      appendFileSync(path, "a\n")
      yield* Effect.sleep("200 millis")
      // The writer's last words, then the task stops: written before `done` flips.
      appendFileSync(path, `b\n${"c".repeat(200_000)}\nlast without newline`)
      yield* Ref.set(done, true)
      const started = Date.now()
      yield* Fiber.join(fiber)
      assert.isBelow(Date.now() - started, 3_000, "follow ends promptly once done")
      assert.deepStrictEqual(seen, ["a", "b", "c".repeat(200_000), "last without newline"])
    }),
  )

  it.scopedLive("follow without any change still ends when done flips (no writes at all)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      yield* Effect.promise(() => writeFile(path, "only\n"))
      const done = yield* Ref.make(false)
      const seen: Array<string> = []
      const fiber = yield* readLog(
        path,
        (batch) => Effect.sync(() => seen.push(...batch.map((b) => b.toString("utf8")))),
        { follow: { done: Ref.get(done) } },
      ).pipe(Effect.fork)
      yield* Effect.sleep("300 millis")
      yield* Ref.set(done, true)
      const started = Date.now()
      yield* Fiber.join(fiber)
      // A worker killed outright writes nothing: the slow fallback notices within ~1 s.
      assert.isBelow(Date.now() - started, 2_500)
      assert.deepStrictEqual(seen, ["only"])
    }),
  )

  it.scopedLive("a line spanning many reads arrives whole and byte for byte, CR kept", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      // Over the 8 MiB decoding cap: the reader still hands it on whole (`log --json` prints it).
      const long = Buffer.alloc(9 * 1024 * 1024 + 7, "é✓ab")
      const file = Buffer.concat([Buffer.from("a\r\n"), long, Buffer.from("\r\nend")])
      yield* Effect.promise(() => writeFile(path, file))
      const lines: Array<Buffer> = []
      yield* readLog(path, (batch) => Effect.sync(() => lines.push(...batch)))
      assert.strictEqual(lines.length, 3)
      assert.strictEqual(lines[0]?.toString("latin1"), "a\r")
      assert.isTrue(lines[1]?.equals(Buffer.concat([long, Buffer.from("\r")])))
      assert.strictEqual(lines[2]?.toString("latin1"), "end")
    }),
  )

  it.scopedLive("fromOffset starts mid-file at a line boundary", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const path = join(dir, "task.log")
      yield* Effect.promise(() => writeFile(path, "old\nnew1\nnew2\n"))
      assert.deepStrictEqual((yield* collect(path, { fromOffset: 4 })).lines, ["new1", "new2"])
    }),
  )
})
