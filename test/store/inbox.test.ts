import { mkdtemp, readdir, rm, stat, unlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as Inbox from "../../src/store/inbox.js"
import { withTaskLock } from "../../src/store/lock.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-inbox-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const pushLocked = (dir: string, prompt: string) => withTaskLock(dir, Inbox.push(dir, prompt))

describe("inbox", () => {
  it.scopedLive("keeps prompts in acceptance order with their positions", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      assert.isTrue(Option.isNone(yield* Inbox.peek(dir)))
      assert.deepStrictEqual(yield* Inbox.pending(dir), [])
      const receipts = [
        yield* pushLocked(dir, "first"),
        yield* pushLocked(dir, "second"),
        yield* pushLocked(dir, "-starts with a dash\nand has lines"),
      ]
      assert.deepStrictEqual(receipts, [
        { seq: 1, position: 1 },
        { seq: 2, position: 2 },
        { seq: 3, position: 3 },
      ])
      const pending = yield* Inbox.pending(dir)
      assert.deepStrictEqual(
        pending.map((e) => e.prompt),
        ["first", "second", "-starts with a dash\nand has lines"],
      )
      const head = yield* Inbox.peek(dir)
      assert.strictEqual(Option.getOrThrow(head).prompt, "first")
      yield* Inbox.remove(dir, 1)
      yield* Inbox.remove(dir, 1)
      assert.strictEqual(Option.getOrThrow(yield* Inbox.peek(dir)).seq, 2)
      assert.deepStrictEqual(yield* pushLocked(dir, "fourth"), { seq: 4, position: 3 })
      const mode = (yield* Effect.promise(() => stat(join(dir, "inbox")))).mode & 0o777
      assert.strictEqual(mode, 0o700)
    }),
  )

  it.scopedLive("drain removes and returns everything, and sequence numbers are never reused", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* pushLocked(dir, "a")
      yield* pushLocked(dir, "b")
      const drained = yield* withTaskLock(dir, Inbox.drain(dir))
      assert.deepStrictEqual(
        drained.map((e) => [e.seq, e.prompt]),
        [
          [1, "a"],
          [2, "b"],
        ],
      )
      assert.deepStrictEqual(yield* Inbox.pending(dir), [])
      assert.deepStrictEqual(yield* pushLocked(dir, "c"), { seq: 3, position: 1 })
    }),
  )

  it.scopedLive("moves past existing entries even if the counter file is lost", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* pushLocked(dir, "a")
      yield* pushLocked(dir, "b")
      yield* Effect.promise(() => unlink(join(dir, "inbox", ".seq")))
      assert.deepStrictEqual(yield* pushLocked(dir, "c"), { seq: 3, position: 3 })
    }),
  )

  it.scopedLive("50 concurrent pushers under the task lock: 50 entries, seq 1..50, none lost", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const prompts = Array.from({ length: 50 }, (_, i) => `prompt ${i}`)
      const receipts = yield* Effect.forEach(prompts, (p) => pushLocked(dir, p), {
        concurrency: "unbounded",
      })
      const pending = yield* Inbox.pending(dir)
      assert.deepStrictEqual(
        pending.map((e) => e.seq),
        Array.from({ length: 50 }, (_, i) => i + 1),
      )
      assert.deepStrictEqual(pending.map((e) => e.prompt).sort(), [...prompts].sort())
      // Each pusher was told the seq and position its own prompt really got.
      receipts.forEach((r, i) => {
        assert.strictEqual(pending[r.seq - 1]?.prompt, prompts[i])
        assert.strictEqual(r.position, r.seq)
      })
      const files = yield* Effect.promise(() => readdir(join(dir, "inbox")))
      assert.strictEqual(files.filter((f) => f.endsWith(".tmp")).length, 0)
    }),
  )
})
