import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import { TaskStore } from "../../src/store/TaskStore.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-store-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const makeMeta = (id: string, extra: Record<string, unknown> = {}): TaskMeta =>
  Schema.decodeUnknownSync(TaskMeta)({
    id,
    state: "STOPPED",
    created_at: "2025-10-12T09:15:02.412Z",
    updated_at: "2025-10-12T09:15:02.412Z",
    ...extra,
  })

/** A store in a fresh temp root (`<tmp>/store`, not created yet). */
const withStore = <A, E>(f: (store: TaskStore, root: string) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const root = join(yield* tempDir, "store")
    const store = yield* Effect.provide(TaskStore, TaskStore.layer(root))
    return yield* f(store, root)
  })

const modeOf = (path: string) =>
  Effect.promise(() => stat(path)).pipe(Effect.map((s) => s.mode & 0o777))
const readJson = (path: string) =>
  Effect.promise(() => readFile(path, "utf8")).pipe(Effect.map((t) => JSON.parse(t)))

describe("TaskStore create/read/write", () => {
  it.scoped("creates a private task directory and refuses to create it twice", () =>
    withStore((store, root) =>
      Effect.gen(function* () {
        const loc = yield* store.create(makeMeta("t1", { title: "hello" }))
        assert.deepStrictEqual<unknown>(loc, { id: "t1", dir: join(root, "t1"), archived: false })
        assert.strictEqual(yield* modeOf(root), 0o700)
        assert.strictEqual(yield* modeOf(loc.dir), 0o700)
        assert.strictEqual(yield* modeOf(join(loc.dir, "task.json")), 0o600)
        const json = yield* readJson(join(loc.dir, "task.json"))
        assert.strictEqual(json.title, "hello")
        assert.strictEqual(json.schema_version, 1)
        assert.strictEqual((yield* store.read(loc)).title, "hello")
        const again = yield* Effect.flip(store.create(makeMeta("t1")))
        assert.strictEqual(again._tag, "TaskExists")
        const bad = yield* Effect.flip(
          store.create({ ...makeMeta("x"), id: "../x" as TaskMeta["id"] }),
        )
        assert.strictEqual(bad._tag, "InvalidTaskId")
      }),
    ),
  )

  it.scoped("keeps unknown fields through update and sets updated_at", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const loc = yield* store.create(makeMeta("t1"))
        const path = join(loc.dir, "task.json")
        const raw = yield* readJson(path)
        const future = { ...raw, future: { a: [1, 2] }, exec: { model: "o3", future_flag: 1 } }
        yield* Effect.promise(() => writeFile(path, JSON.stringify(future)))
        const updated = yield* store.update(loc, (m) => ({ ...m, title: "renamed", turns: 2 }))
        assert.isAbove(Date.parse(updated.updated_at), Date.parse("2025-10-12T09:15:02.412Z"))
        const json = yield* readJson(path)
        assert.deepStrictEqual(json.future, { a: [1, 2] })
        assert.deepStrictEqual(json.exec, { model: "o3", future_flag: 1 })
        assert.strictEqual(json.title, "renamed")
        assert.strictEqual(json.turns, 2)
        assert.deepStrictEqual((yield* Effect.promise(() => readdir(loc.dir))).sort(), [
          "task.json",
          "task.json.prev",
        ])
      }),
    ),
  )

  it.scoped(
    "a damaged task.json falls back to the record before the last update (issue 20 fuzz)",
    () =>
      withStore((store) =>
        Effect.gen(function* () {
          const loc = yield* store.create(makeMeta("t1", { title: "first" }))
          const path = join(loc.dir, "task.json")
          yield* store.update(loc, (m) => ({ ...m, title: "second" }))
          assert.strictEqual((yield* readJson(`${path}.prev`)).title, "first")
          yield* store.update(loc, (m) => ({ ...m, title: "third", turns: 3 }))
          assert.strictEqual((yield* readJson(`${path}.prev`)).title, "second")
          for (const damage of ["", "{ torn", '{"id": 7}']) {
            yield* Effect.promise(() => writeFile(path, damage))
            assert.strictEqual(
              (yield* store.read(loc)).title,
              "second",
              `damage ${JSON.stringify(damage)}`,
            )
            const listed = yield* store.list({ includeArchived: false })
            const row = listed[0]
            assert.strictEqual(row !== undefined && "meta" in row ? row.meta.title : row, "second")
          }
          // the next update repairs task.json from the backup; the damaged file never becomes it
          const repaired = yield* store.update(loc, (m) => ({ ...m, turns: (m.turns ?? 0) + 1 }))
          assert.strictEqual(repaired.title, "second")
          assert.strictEqual((yield* readJson(path)).turns, repaired.turns)
          assert.strictEqual((yield* readJson(`${path}.prev`)).title, "second")
        }),
      ),
  )

  it.scoped("reports a corrupt or missing task.json as typed errors", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const loc = yield* store.create(makeMeta("t1"))
        const path = join(loc.dir, "task.json")
        yield* Effect.promise(() => writeFile(path, "{ not json"))
        const corrupt = yield* Effect.flip(store.read(loc))
        assert.strictEqual(corrupt._tag, "CorruptTask")
        if (corrupt._tag === "CorruptTask") {
          assert.strictEqual(corrupt.path, path)
          assert.include(corrupt.message, "not JSON")
        }
        yield* Effect.promise(() => writeFile(path, JSON.stringify({ id: "t1", state: "WEIRD" })))
        const invalid = yield* Effect.flip(store.read(loc))
        assert.include(invalid.message, "state")
        const missing = yield* Effect.flip(
          store.read({ ...loc, id: loc.id, dir: `${loc.dir}-gone` }),
        )
        assert.strictEqual(missing._tag, "TaskNotFound")
      }),
    ),
  )
})

describe("TaskStore.resolve", () => {
  const archive = (root: string, id: string) =>
    Effect.promise(async () => {
      const dir = join(root, "archive", "2025", "10", "11", id)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, "task.json"), JSON.stringify(makeMeta(id, { state: "ARCHIVED" })))
    })

  it.scoped("finds full ids and unique prefixes, lists candidates when ambiguous", () =>
    withStore((store, root) =>
      Effect.gen(function* () {
        for (const id of ["0199aaaa-1", "0199aaab-2", "0200cccc-3"])
          yield* store.create(makeMeta(id))
        yield* archive(root, "0300dddd-4")
        assert.strictEqual((yield* store.resolve("0199aaaa-1")).id, "0199aaaa-1")
        assert.strictEqual((yield* store.resolve("0199aaab")).id, "0199aaab-2")
        assert.strictEqual((yield* store.resolve("02")).id, "0200cccc-3")
        const ambiguous = yield* Effect.flip(store.resolve("0199"))
        assert.strictEqual(ambiguous._tag, "AmbiguousTaskId")
        assert.include(ambiguous.message, "0199aaaa-1")
        assert.include(ambiguous.message, "0199aaab-2")
        const unknown = yield* Effect.flip(store.resolve("0999"))
        assert.strictEqual(unknown._tag, "TaskNotFound")
        assert.include(unknown.message, "0999")
        // Archived tasks only when asked for.
        assert.strictEqual((yield* Effect.flip(store.resolve("03")))._tag, "TaskNotFound")
        const archived = yield* store.resolve("03", { includeArchived: true })
        assert.deepStrictEqual<unknown>(archived, {
          id: "0300dddd-4",
          dir: join(root, "archive", "2025", "10", "11", "0300dddd-4"),
          archived: true,
        })
        assert.strictEqual(
          (yield* store.resolve("0", { includeArchived: true }).pipe(Effect.flip))._tag,
          "AmbiguousTaskId",
        )
      }),
    ),
  )

  it.scoped("rejects refs that are not ids before touching the filesystem", () =>
    withStore((store) =>
      Effect.gen(function* () {
        for (const ref of ["../x", "a/b", "..", ".", ""]) {
          const error = yield* Effect.flip(store.resolve(ref))
          assert.strictEqual(error._tag, "InvalidTaskId", ref)
        }
      }),
    ),
  )
})

describe("TaskStore.list", () => {
  it.scoped("returns good and corrupt tasks side by side and ignores non-task entries", () =>
    withStore((store, root) =>
      Effect.gen(function* () {
        yield* store.create(makeMeta("good-1"))
        yield* store.create(makeMeta("good-2", { title: "two" }))
        const broken = yield* store.create(makeMeta("broken"))
        yield* Effect.promise(async () => {
          await writeFile(join(broken.dir, "task.json"), "")
          await writeFile(join(root, "stray-file"), "x")
          await mkdir(join(root, ".hidden"))
          await mkdir(join(root, "not-a-task"))
          await mkdir(join(root, "archive", "2025", "10", "11", "arch-1"), { recursive: true })
          await writeFile(
            join(root, "archive", "2025", "10", "11", "arch-1", "task.json"),
            JSON.stringify(makeMeta("arch-1", { state: "ARCHIVED" })),
          )
        })
        const rows = yield* store.list({ includeArchived: false })
        assert.deepStrictEqual(
          rows.map((r) => [r.loc.id, "meta" in r ? r.meta.state : r.error._tag]),
          [
            ["broken", "CorruptTask"],
            ["good-1", "STOPPED"],
            ["good-2", "STOPPED"],
          ],
        )
        const all = yield* store.list({ includeArchived: true })
        assert.deepStrictEqual(
          all.map((r) => [r.loc.id, r.loc.archived]),
          [
            ["arch-1", true],
            ["broken", false],
            ["good-1", false],
            ["good-2", false],
          ],
        )
      }),
    ),
  )

  it.scoped("lists an absent store as empty", () =>
    withStore((store) =>
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* store.list({ includeArchived: true }), [])
      }),
    ),
  )
})

describe("TaskStore files", () => {
  it.scoped("appends to the log and promotes results atomically", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const loc = yield* store.create(makeMeta("t1"))
        yield* store.appendLog(loc, '{"type":"a"}\n')
        yield* store.appendLog(loc, new TextEncoder().encode('{"type":"b"}\n'))
        const log = yield* Effect.promise(() => readFile(store.logPath(loc), "utf8"))
        assert.strictEqual(log, '{"type":"a"}\n{"type":"b"}\n')
        assert.strictEqual(yield* modeOf(store.logPath(loc)), 0o600)

        assert.isUndefined(yield* store.readResult(loc))
        const tmp = join(loc.dir, ".task.result.abc.tmp")
        yield* Effect.promise(() => writeFile(tmp, "final answer", { mode: 0o644 }))
        yield* store.promoteResult(loc, tmp)
        assert.strictEqual(yield* store.readResult(loc), "final answer")
        assert.strictEqual(yield* modeOf(join(loc.dir, "task.result")), 0o600)

        const outside = join(loc.dir, "..", "elsewhere.tmp")
        const error = yield* Effect.flip(store.promoteResult(loc, outside))
        assert.strictEqual(error._tag, "StoreError")
        assert.strictEqual(yield* store.readResult(loc), "final answer")
      }),
    ),
  )

  it.scopedLive("queues prompts in the inbox through the store", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const loc = yield* store.create(makeMeta("t1"))
        assert.deepStrictEqual(yield* store.inboxPush(loc, "one"), { seq: 1, position: 1 })
        assert.deepStrictEqual(yield* store.inboxPush(loc, "two"), { seq: 2, position: 2 })
        const drained = yield* store.inboxDrain(loc)
        assert.deepStrictEqual(
          drained.map((e) => e.prompt),
          ["one", "two"],
        )
        assert.deepStrictEqual(yield* store.inboxPending(loc), [])
      }),
    ),
  )
})
