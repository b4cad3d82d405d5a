import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { writeFileAtomic } from "../../src/store/atomic.js"
import { errnoCode } from "../../src/store/errors.js"
import {
  faultState,
  installFaultPlan,
  parseFaultPlan,
  SimulatedCrash,
} from "../../src/store/faults.js"
import * as Inbox from "../../src/store/inbox.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-faults-"))),
  (dir) =>
    Effect.promise(() => {
      installFaultPlan(undefined)
      return rm(dir, { recursive: true, force: true })
    }),
)

describe("parseFaultPlan", () => {
  it("reads the compact form and JSON", () => {
    assert.deepStrictEqual(parseFaultPlan("role=worker;crash-at=7"), { role: "worker", crashAt: 7 })
    assert.deepStrictEqual(parseFaultPlan("crash-at=name:inbox.take, trace=/tmp/t"), {
      crashAt: "inbox.take",
      trace: "/tmp/t",
    })
    assert.deepStrictEqual(parseFaultPlan("readonly"), { readonly: true })
    assert.deepStrictEqual(parseFaultPlan('{"enospc-from": 12, "role": "cli"}'), {
      enospcFrom: 12,
      role: "cli",
    })
  })

  it("names what is wrong", () => {
    assert.throws(() => parseFaultPlan("crash-at=0"), /crash-at wants a whole number/)
    assert.throws(() => parseFaultPlan("role=daemon"), /role must be one of/)
    assert.throws(() => parseFaultPlan("explode"), /unknown setting "explode"/)
  })
})

describe("faultPoint", () => {
  it.scoped("traces the stages of an atomic write and an inbox push", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const seen: Array<string> = []
      installFaultPlan({ onPoint: (name, _k, detail) => seen.push(`${name} ${detail}`) })
      yield* writeFileAtomic(join(dir, "task.json"), "{}", { durable: true })
      assert.deepStrictEqual(seen, [
        "atomic.temp task.json",
        "atomic.fsync task.json",
        "atomic.rename task.json",
        `atomic.dirsync ${basename(dir)}`,
      ])
      seen.length = 0
      yield* Inbox.push(dir, "hello")
      yield* Inbox.take(dir, 1)
      assert.deepStrictEqual(
        seen.map((s) => s.split(" ")[0]),
        [
          "dir.mkdir",
          ...["atomic.temp", "atomic.fsync", "atomic.rename"],
          ...["atomic.temp", "atomic.fsync", "atomic.rename"],
          "dir.fsync",
          "inbox.take",
          "dir.fsync",
        ],
      )
    }),
  )

  it.scoped("ENOSPC from the k-th point reaches the store's error path as ENOSPC", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      installFaultPlan({ enospcFrom: 3 })
      const path = join(dir, "task.json")
      const exit = yield* Effect.exit(writeFileAtomic(path, "{}"))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        assert.strictEqual(errnoCode(exit.cause.error.cause), "ENOSPC")
        assert.match(exit.cause.error.message, /no space left on device/)
      } else assert.fail("expected a StoreError")
      // the failed write left neither the target nor its temporary file
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
    }),
  )

  it.scoped("an in-process crash kills the store: no later write gets through", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const crashed: Array<string> = []
      installFaultPlan({
        crashAt: "atomic.rename",
        inProcess: true,
        onCrash: (p) => crashed.push(p),
      })
      const first = yield* Effect.exit(writeFileAtomic(join(dir, "a"), "1"))
      const later = yield* Effect.exit(writeFileAtomic(join(dir, "b"), "2"))
      assert.deepStrictEqual(crashed, ["atomic.rename"])
      assert.isTrue(Exit.isFailure(first) && Exit.isFailure(later))
      if (Exit.isFailure(later) && later.cause._tag === "Fail") {
        assert.instanceOf(later.cause.error.cause, SimulatedCrash)
      }
      assert.isTrue(faultState().dead)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
      installFaultPlan(undefined)
      yield* writeFileAtomic(join(dir, "b"), "2")
      assert.strictEqual(yield* Effect.promise(() => readFile(join(dir, "b"), "utf8")), "2")
    }),
  )
})
