import { execFileSync } from "node:child_process"
import { cp, mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { effectiveState } from "../../src/domain/task.js"
import { TaskStore } from "../../src/store/TaskStore.js"

const LEGACY = "/work/shared/legacy-stores"

/** A writable copy of one of the example stores written by the Rust tool. */
const legacyStore = (era: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), `ct-legacy-${era}-`))
      const root = join(dir, "store")
      await cp(join(LEGACY, era), root, { recursive: true })
      execFileSync("chmod", ["-R", "u+w", root])
      return root
    }),
    (root) => Effect.promise(() => rm(join(root, ".."), { recursive: true, force: true })),
  ).pipe(
    Effect.flatMap((root) =>
      Effect.map(Effect.provide(TaskStore, TaskStore.layer(root)), (store) => ({ store, root })),
    ),
  )

describe("stores written by the Rust tool", () => {
  it.scoped("reads every exec-era task, whatever its timestamp precision", () =>
    Effect.gen(function* () {
      const { store } = yield* legacyStore("exec-era")
      const rows = yield* store.list({ includeArchived: true })
      const summary = rows.map((r) => {
        assert.isTrue("meta" in r, `${r.loc.id} should read`)
        return "meta" in r ? [r.loc.id, r.meta.state, r.loc.archived] : []
      })
      assert.deepStrictEqual(summary, [
        ["0199d7b0-aaaa-7bbb-8ccc-dddddddddddd", "ARCHIVED", true],
        ["0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d", "STOPPED", false],
        ["0199d7c3-0a11-7b22-8c33-4d4e5f607182", "RUNNING", false],
        ["0199d7c4-1b2c-7d3e-9f40-5162738495a6", "DIED", false],
      ])
      const loc = yield* store.resolve("0199d7c2")
      const meta = yield* store.read(loc)
      assert.strictEqual(meta.title, "Investigate bug")
      assert.strictEqual(meta.created_at, "2025-10-12T09:15:02.412887301+00:00")
      assert.strictEqual(meta.config_path, "/home/u/.codex-alt/config.toml")
      assert.strictEqual(meta.working_dir, "/home/u/src/api")
      assert.strictEqual(
        yield* store.readResult(loc),
        "The spike comes from the synchronous DNS lookup in the request path.",
      )
    }),
  )

  it.scoped("reads a RUNNING task whose recorded pid is gone as DIED (worker lost)", () =>
    Effect.gen(function* () {
      const { store } = yield* legacyStore("exec-era")
      const loc = yield* store.resolve("0199d7c3")
      const meta = yield* store.read(loc)
      const alive = yield* store.workerAlive(loc)
      assert.strictEqual(alive, false)
      const visible = effectiveState(meta, alive)
      assert.strictEqual(visible.state, "DIED")
      assert.strictEqual(visible.outcome?.kind, "worker_lost")
    }),
  )

  it.scoped("updates a Rust-written task without losing its fields", () =>
    Effect.gen(function* () {
      const { store } = yield* legacyStore("exec-era")
      const loc = yield* store.resolve("0199d7c2")
      const before = JSON.parse(
        yield* Effect.promise(() => readFile(join(loc.dir, "task.json"), "utf8")),
      )
      yield* store.update(loc, (m) => ({ ...m, title: "Investigate latency" }))
      const after = JSON.parse(
        yield* Effect.promise(() => readFile(join(loc.dir, "task.json"), "utf8")),
      )
      assert.deepStrictEqual(
        Object.keys(after).sort(),
        [...Object.keys(before), "schema_version"].sort(),
      )
      assert.strictEqual(after.title, "Investigate latency")
      assert.strictEqual(after.created_at, before.created_at)
      assert.strictEqual(after.config_path, before.config_path)
    }),
  )

  it.scoped(
    "reads proto-era IDLE as STOPPED, archived ones too, with a FIFO next to the files",
    () =>
      Effect.gen(function* () {
        const { store, root } = yield* legacyStore("proto-era")
        const id = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
        execFileSync("mkfifo", [join(root, id, "task.pipe")])
        const rows = yield* store.list({ includeArchived: true })
        assert.deepStrictEqual(
          rows.map((r) => ("meta" in r ? [r.loc.id, r.meta.state] : [r.loc.id, r.error.message])),
          [
            [id, "STOPPED"],
            ["9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "ARCHIVED"],
          ],
        )
        const meta = yield* store.read(yield* store.resolve("6f1c"))
        assert.strictEqual(meta.updated_at, "2025-09-27T08:01:10.551902+00:00")
        assert.strictEqual(effectiveState(meta, false).state, "STOPPED")
      }),
  )
})
