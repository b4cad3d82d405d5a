import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { Tasks } from "../../src/tasks/Tasks.js"
import { makeTasksWorld } from "../support/tasksWorld.js"

// One long-lived `Tasks` (as `serve` keeps one) lists the same store again after each kind of
// change another process can make: the decoded records it keeps never hide a change.

const meta = (id: string, extra: Record<string, unknown> = {}): TaskMeta =>
  Schema.decodeUnknownSync(TaskMeta)({
    id,
    title: `task ${id}`,
    state: "STOPPED",
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    ...extra,
  })

const A = "01a20000-0000-7000-8000-00000000000a"
const B = "01a20000-0000-7000-8000-00000000000b"
const C = "01a20000-0000-7000-8000-00000000000c"
const WORKER_PID = 4_242

describe("Tasks.list in a long-lived process", () => {
  it.scoped("shows every kind of change made since the previous list", () =>
    Effect.gen(function* () {
      const w = yield* makeTasksWorld([])
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const store = yield* TaskStore
        const a = yield* store.create(meta(A))
        const b = yield* store.create(meta(B, { state: "RUNNING" }))
        const c = yield* store.create(meta(C))
        yield* store.writeWorker(b, yield* w.fake.spawn({ pid: WORKER_PID }))
        const list = Effect.map(tasks.list({ includeArchived: true }), ({ views, broken }) => ({
          byId: new Map(views.map((v) => [v.loc.id as string, v])),
          broken: broken.map((u) => u.ref),
        }))
        const first = yield* list
        assert.deepStrictEqual(
          [A, B, C].map((id) => first.byId.get(id)?.state),
          ["STOPPED", "RUNNING", "STOPPED"],
        )

        // task.json updated by the store (what every CLI command does)
        yield* store.update(a, (m) => ({ ...m, title: "renamed" }))
        assert.strictEqual((yield* list).byId.get(A)?.meta.title, "renamed")

        // task.json replaced by a file of the same size with the old times put back
        const path = join(a.dir, "task.json")
        const whole = 1_767_225_600 // whole seconds: times the file system keeps exactly
        utimesSync(path, whole, whole)
        assert.strictEqual((yield* list).byId.get(A)?.meta.title, "renamed")
        const before = statSync(path)
        const text = readFileSync(path, "utf8")
        writeFileSync(`${path}.tmp`, text.replace('"renamed"', '"RENAMED"'))
        renameSync(`${path}.tmp`, path)
        utimesSync(path, whole, whole)
        assert.deepStrictEqual(
          [statSync(path).size, statSync(path).mtimeMs],
          [before.size, before.mtimeMs],
        )
        assert.strictEqual((yield* list).byId.get(A)?.meta.title, "RENAMED")

        // task.json rewritten in place (the Rust tool's flat era did that)
        writeFileSync(path, readFileSync(path, "utf8").replace('"RENAMED"', '"in place"'))
        assert.strictEqual((yield* list).byId.get(A)?.meta.title, "in place")
        assert.strictEqual((yield* store.read(a)).title, "in place")

        // a prompt queued (`send` to a busy task), then taken (the inbox directory stays)
        yield* store.inboxPush(c, "next, please")
        assert.strictEqual((yield* list).byId.get(C)?.queued, 1)
        yield* store.inboxDrain(c)
        assert.strictEqual((yield* list).byId.get(C)?.queued, 0)
        yield* store.inboxPush(c, "and this")
        assert.strictEqual((yield* list).byId.get(C)?.queued, 1)

        // the worker of a running task gone without a word
        yield* w.fake.exit(WORKER_PID)
        assert.strictEqual((yield* list).byId.get(B)?.state, "DIED")

        // archived
        yield* tasks.archive([A])
        const archived = (yield* list).byId.get(A)
        assert.strictEqual(archived?.state, "ARCHIVED")
        assert.notStrictEqual(archived?.loc.dir, a.dir)

        // damaged behind the store's back: reported, not shown as it was
        writeFileSync(join(c.dir, "task.json"), "{ not json")
        const damaged = yield* list
        assert.isFalse(damaged.byId.has(C))
        assert.deepStrictEqual(damaged.broken, [C])
      }).pipe(Effect.provide(w.layer))
    }),
  )
})
