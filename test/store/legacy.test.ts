import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { effectiveState, TaskMeta } from "../../src/domain/task.js"
import * as ProcessesLive from "../../src/processes/live.js"
import { type TaskLocation, TaskStore } from "../../src/store/TaskStore.js"
import { archiveTaskWith } from "../../src/tasks/archive.js"
import { RustTaskJson } from "../support/legacyStores.js"

// The Rust tool's example stores (../shared/legacy-stores), as copied into the repo.
const LEGACY = new URL("../../fixtures/legacy-stores/", import.meta.url).pathname
const PROTO_ID = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
const FLAT_ID = "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a4b"
const FLAT_DONE_ID = "1c2d3e4f-5061-4b72-8c83-9d9e8f7a6b5c"

/** A writable copy of example stores written by the Rust tool (several eras merge into one root). */
const legacyStore = (...eras: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), `ct-legacy-${eras.join("-")}-`))
      const root = join(dir, "store")
      for (const era of eras) await cp(join(LEGACY, era), root, { recursive: true })
      execFileSync("chmod", ["-R", "u+w", root])
      return root
    }),
    (root) => Effect.promise(() => rm(join(root, ".."), { recursive: true, force: true })),
  ).pipe(
    Effect.flatMap((root) =>
      Effect.map(Effect.provide(TaskStore, TaskStore.layer(root)), (store) => ({ store, root })),
    ),
  )

const text = (path: string) => Effect.promise(() => readFile(path, "utf8"))
const json = (path: string) => Effect.map(text(path), (t) => JSON.parse(t))
const entries = (path: string) => Effect.promise(() => readdir(path).then((names) => names.sort()))
const exists = (path: string) =>
  Effect.promise(() =>
    lstat(path).then(
      () => true,
      () => false,
    ),
  )

/** Archives the task `ref` with `root`'s store in context. */
const archive = (store: TaskStore, ref: string) =>
  Effect.flatMap(store.resolve(ref), (loc) =>
    Effect.provideService(archiveTask(loc), TaskStore, store),
  )

/** Every file under `root` with its content (FIFOs named, not read): what "untouched" means. */
const snapshot = (root: string) =>
  Effect.promise(async () => {
    const out: Record<string, string> = {}
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, e.name)
        if (e.isDirectory()) await walk(path)
        else out[path] = e.isFIFO() ? "<fifo>" : await readFile(path, "utf8")
      }
    }
    await walk(root)
    return out
  })

const spawnChild = (command: string, args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn(command, args, { stdio: "ignore" })),
    (c: ChildProcess) =>
      Effect.promise(async () => {
        if (c.exitCode !== null || c.signalCode !== null) return
        const exited = once(c, "exit")
        c.kill("SIGKILL")
        await exited
      }),
  )

/** Archives one task with the live process table. */
const archiveTask = (loc: TaskLocation) => Effect.provide(archiveTaskWith(loc), ProcessesLive.layer)

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

  it.scopedLive("an exec-era task.pid (the codex child) is unverifiable, never trusted", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("exec-era")
      const loc = yield* store.resolve("0199d7c3")
      const pidFile = join(root, loc.id, "task.pid")
      const codexLike = yield* spawnChild("bash", ["-c", "exec -a codex sleep 30"])
      const other = yield* spawnChild("sleep", ["30"])
      yield* Effect.sleep("100 millis")
      yield* Effect.promise(() => writeFile(pidFile, `${codexLike.pid}\n`))
      assert.strictEqual(yield* store.workerAlive(loc), "unknown")
      // Unknown liveness keeps the stored RUNNING (it may be a live codex of the Rust tool).
      assert.strictEqual(effectiveState(yield* store.read(loc), "unknown").state, "RUNNING")
      yield* Effect.promise(() => writeFile(pidFile, `${other.pid}\n`))
      assert.strictEqual(yield* store.workerAlive(loc), false, "a live pid that is not codex")
    }),
  )

  it.scoped("updates a Rust-written task without losing its fields", () =>
    Effect.gen(function* () {
      const { store } = yield* legacyStore("exec-era")
      const loc = yield* store.resolve("0199d7c2")
      const before = yield* json(join(loc.dir, "task.json"))
      yield* store.update(loc, (m) => ({ ...m, title: "Investigate latency" }))
      const after = yield* json(join(loc.dir, "task.json"))
      assert.deepStrictEqual(
        Object.keys(after).sort(),
        [...Object.keys(before), "schema_version"].sort(),
      )
      assert.strictEqual(after.title, "Investigate latency")
      assert.strictEqual(after.created_at, before.created_at)
      assert.strictEqual(after.config_path, before.config_path)
    }),
  )

  it.scoped("keeps fields it does not know (nested too) through a rewrite", () =>
    Effect.gen(function* () {
      const { store } = yield* legacyStore("exec-era")
      const loc = yield* store.resolve("0199d7c4")
      const path = join(loc.dir, "task.json")
      const rust = yield* json(path)
      const extra = { rust_only: { nested: [1, { deep: true }] }, model: "gpt-5", exit_code: null }
      yield* Effect.promise(() => writeFile(path, JSON.stringify({ ...rust, ...extra })))
      yield* store.update(loc, (m) => ({ ...m, state: "STOPPED" }))
      const after = yield* json(path)
      for (const [key, value] of Object.entries(extra)) assert.deepStrictEqual(after[key], value)
      assert.strictEqual(after.state, "STOPPED")
    }),
  )

  it.scoped(
    "reads proto-era IDLE as STOPPED, archived ones too, with a FIFO next to the files",
    () =>
      Effect.gen(function* () {
        const { store, root } = yield* legacyStore("proto-era")
        execFileSync("mkfifo", [join(root, PROTO_ID, "task.pipe")])
        const rows = yield* store.list({ includeArchived: true })
        assert.deepStrictEqual(
          rows.map((r) => ("meta" in r ? [r.loc.id, r.meta.state] : [r.loc.id, r.error.message])),
          [
            [PROTO_ID, "STOPPED"],
            ["9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "ARCHIVED"],
          ],
        )
        const meta = yield* store.read(yield* store.resolve("6f1c"))
        assert.strictEqual(meta.updated_at, "2025-09-27T08:01:10.551902+00:00")
        assert.strictEqual(effectiveState(meta, false).state, "STOPPED")
      }),
  )

  it.scoped("reading never rewrites legacy metadata; IDLE becomes STOPPED on our next write", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("exec-era", "proto-era", "flat-era")
      execFileSync("mkfifo", [join(root, PROTO_ID, "task.pipe")])
      const before = yield* snapshot(root)
      for (const row of yield* store.list({ includeArchived: true })) {
        yield* store.read(row.loc)
        yield* store.readResult(row.loc)
        yield* store.workerAlive(row.loc)
        yield* store.format(row.loc)
        yield* store.inboxPending(row.loc)
      }
      assert.deepStrictEqual(yield* snapshot(root), before)
      const proto = yield* store.resolve(PROTO_ID)
      assert.strictEqual((yield* json(join(proto.dir, "task.json"))).state, "IDLE")
      yield* store.update(proto, (m) => ({ ...m, title: "renamed" }))
      const written = yield* json(join(proto.dir, "task.json"))
      assert.strictEqual(written.state, "STOPPED")
      assert.strictEqual(written.last_result, "The spike comes from the synchronous DNS lookup.")
    }),
  )
})

describe("the flat era (<id>.json in the root, done/ as archive)", () => {
  it.scoped("lists, resolves and reads flat tasks, active and in done/", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("flat-era")
      // Other JSON files in the root are not tasks (only `<uuid>.json` is).
      yield* Effect.promise(() => writeFile(join(root, "notes.json"), "{}"))
      const active = yield* store.list({ includeArchived: false })
      assert.deepStrictEqual(
        active.map((r) => [r.loc.id, r.loc.archived, "meta" in r]),
        [[FLAT_ID, false, true]],
      )
      const all = yield* store.list({ includeArchived: true })
      assert.deepStrictEqual(
        all.map((r) => [r.loc.id, r.loc.archived, "meta" in r ? r.meta.state : r.error.message]),
        [
          [FLAT_ID, false, "STOPPED"],
          [FLAT_DONE_ID, true, "STOPPED"],
        ],
      )
      const loc = yield* store.resolve("0b1c")
      assert.strictEqual(loc.layout, "flat")
      assert.strictEqual((yield* store.resolve(FLAT_ID)).layout, "flat")
      assert.strictEqual((yield* store.read(loc)).title, "First ever task")
      assert.strictEqual(yield* store.readResult(loc), "Hello from the flat era.")
      assert.strictEqual(store.logPath(loc), join(root, `${FLAT_ID}.log`))
      assert.include(yield* text(store.logPath(loc)), "User instructions:")
      assert.deepStrictEqual(yield* store.inboxPending(loc), [])
      assert.strictEqual(yield* store.workerAlive(loc), false)
      assert.strictEqual((yield* Effect.flip(store.resolve("1c2d")))._tag, "TaskNotFound")
      const done = yield* store.resolve("1c2d", { includeArchived: true })
      assert.deepStrictEqual([done.archived, done.dir], [true, join(root, "done")])
      assert.strictEqual(yield* store.readResult(done), undefined)
    }),
  )

  it.scopedLive("judges <id>.pid like the Rust tool's other bare pids", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("flat-era")
      const loc = yield* store.resolve(FLAT_ID)
      const codexLike = yield* spawnChild("bash", ["-c", "exec -a codex sleep 30"])
      yield* Effect.sleep("100 millis")
      yield* Effect.promise(() => writeFile(join(root, `${FLAT_ID}.pid`), `${codexLike.pid}\n`))
      assert.strictEqual(yield* store.workerAlive(loc), "unknown")
      yield* Effect.promise(() => writeFile(join(root, `${FLAT_ID}.pid`), "4194000\n"))
      assert.strictEqual(yield* store.workerAlive(loc), false)
    }),
  )

  it.scoped("updates a flat task in place, under a lock of its own", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("flat-era")
      const loc = yield* store.resolve(FLAT_ID)
      yield* store.update(loc, (m) => ({ ...m, title: "renamed" }))
      const after = yield* json(join(root, `${FLAT_ID}.json`))
      assert.strictEqual(after.title, "renamed")
      assert.strictEqual(after.initial_prompt, "Say hello")
      // No task directory, inbox or lock file appeared in the root.
      assert.deepStrictEqual(yield* entries(root), [
        `${FLAT_ID}.json`,
        `${FLAT_ID}.log`,
        `${FLAT_ID}.result`,
        "done",
      ])
      assert.strictEqual((yield* Effect.flip(store.inboxPush(loc, "hi")))._tag, "StoreError")
    }),
  )
})

describe("telling the eras apart", () => {
  it.scoped("by what is on disk, not by the id alone", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("exec-era", "proto-era", "flat-era")
      const formatOf = (ref: string) =>
        Effect.flatMap(store.resolve(ref, { includeArchived: true }), store.format)
      assert.strictEqual(yield* formatOf("0199d7c2"), "exec")
      assert.strictEqual(yield* formatOf("0199d7c4"), "exec")
      assert.strictEqual(yield* formatOf("0199d7b0"), "exec")
      assert.strictEqual(yield* formatOf(PROTO_ID), "proto")
      assert.strictEqual(yield* formatOf("9a8b"), "proto")
      assert.strictEqual(yield* formatOf(FLAT_ID), "flat")
      assert.strictEqual(yield* formatOf(FLAT_DONE_ID), "flat")

      // A proto task whose log is gone is still proto: its IDLE state, or its FIFO, or its id.
      const protoDir = join(root, PROTO_ID)
      yield* Effect.promise(() => rm(join(protoDir, "task.log")))
      assert.strictEqual(yield* formatOf(PROTO_ID), "proto")
      const meta = yield* json(join(protoDir, "task.json"))
      yield* Effect.promise(() =>
        writeFile(join(protoDir, "task.json"), JSON.stringify({ ...meta, state: "STOPPED" })),
      )
      assert.strictEqual(yield* formatOf(PROTO_ID), "proto", "UUIDv4 id, no log")
      execFileSync("mkfifo", [join(protoDir, "task.pipe")])
      assert.strictEqual(yield* formatOf(PROTO_ID), "proto")

      // Ours: schema_version, whatever the id looks like (fake codex layers use UUIDv4 ids).
      const v4 = "5b0e8a6c-2f1d-4c3b-9a8e-7d6c5b4a3f21"
      const ours = yield* store.create(
        Schema.decodeUnknownSync(TaskMeta)({
          id: v4,
          state: "STOPPED",
          created_at: "2026-01-01T00:00:00.000Z",
          updated_at: "2026-01-01T00:00:00.000Z",
        }),
      )
      assert.strictEqual(yield* store.format(ours), "current")
      // The same task rewritten by the Rust tool (which drops our fields) still has a JSONL log.
      yield* Effect.promise(async () => {
        await writeFile(join(ours.dir, "task.log"), '{"type":"user_message","message":"hi"}\n')
        const { schema_version: _, ...rust } = JSON.parse(
          await readFile(join(ours.dir, "task.json"), "utf8"),
        )
        await writeFile(join(ours.dir, "task.json"), JSON.stringify(rust))
      })
      assert.strictEqual(yield* store.format(ours), "exec")
    }),
  )
})

describe("archiving legacy tasks", () => {
  it.scoped("a proto-era task moves with the current names and loses its FIFO", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("proto-era")
      execFileSync("mkfifo", [join(root, PROTO_ID, "task.pipe")])
      const report = yield* archive(store, PROTO_ID)
      assert.strictEqual(report.status, "archived")
      if (report.status !== "archived") return
      assert.match(report.dir, /\/archive\/\d{4}\/\d{2}\/\d{2}\/6f1c2d3e-[^/]+$/)
      assert.isFalse(yield* exists(join(root, PROTO_ID)))
      assert.deepStrictEqual(yield* entries(report.dir), [
        "task.json",
        "task.json.prev", // the record before archiving, kept by the update (a damaged one falls back)
        "task.log",
        "task.pid",
        "task.result",
      ])
      const meta = yield* json(join(report.dir, "task.json"))
      assert.strictEqual(meta.state, "ARCHIVED")
      assert.strictEqual(meta.legacy_format, "proto")
      assert.strictEqual(meta.title, "Investigate bug")
      const loc = yield* store.resolve(PROTO_ID, { includeArchived: true })
      assert.isTrue(loc.archived)
      assert.strictEqual(yield* store.format(loc), "proto")
    }),
  )

  it.scoped("a flat-era task's files become a dated task directory", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("flat-era")
      execFileSync("mkfifo", [join(root, `${FLAT_ID}.pipe`)])
      yield* Effect.promise(() => writeFile(join(root, `${FLAT_ID}.pid`), "4194000\n"))
      const report = yield* archive(store, FLAT_ID)
      assert.strictEqual(report.status, "archived")
      if (report.status !== "archived") return
      assert.deepStrictEqual(yield* entries(root), ["archive", "done"])
      assert.deepStrictEqual(yield* entries(report.dir), [
        "task.json",
        "task.log",
        "task.pid",
        "task.result",
      ])
      assert.strictEqual(yield* text(join(report.dir, "task.result")), "Hello from the flat era.")
      const meta = yield* json(join(report.dir, "task.json"))
      assert.deepStrictEqual([meta.state, meta.legacy_format], ["ARCHIVED", "flat"])
      const loc = yield* store.resolve(FLAT_ID, { includeArchived: true })
      assert.deepStrictEqual([loc.archived, loc.dir, loc.layout], [true, report.dir, undefined])
      assert.strictEqual(yield* store.format(loc), "flat")
      // done/ tasks are archived already.
      const done = yield* Effect.flatMap(
        store.resolve(FLAT_DONE_ID, { includeArchived: true }),
        (l) => Effect.provideService(archiveTask(l), TaskStore, store),
      )
      assert.strictEqual(done.status, "already-archived")
    }),
  )

  it.scoped("an interrupted flat-era archive is completed by archiving again", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("flat-era")
      const loc = yield* store.resolve(FLAT_ID)
      // As if a previous archive marked the task and moved its log, then crashed.
      const marked = yield* store.update(loc, (m) => ({ ...m, state: "ARCHIVED" }))
      const day = marked.updated_at.slice(0, 10).split("-")
      const target = join(root, "archive", ...day, FLAT_ID)
      yield* Effect.promise(async () => {
        await mkdir(target, { recursive: true })
        await rename(join(root, `${FLAT_ID}.log`), join(target, "task.log"))
      })
      // Meanwhile it is listed once, as ARCHIVED, and not resumable.
      const rows = yield* store.list({ includeArchived: true })
      assert.deepStrictEqual(
        rows.map((r) => [r.loc.id, "meta" in r ? r.meta.state : r.error.message]),
        [
          [FLAT_ID, "ARCHIVED"],
          [FLAT_DONE_ID, "STOPPED"],
        ],
      )
      const report = yield* archive(store, FLAT_ID)
      assert.deepStrictEqual<unknown>(report, { id: FLAT_ID, status: "archived", dir: target })
      assert.deepStrictEqual(yield* entries(target), ["task.json", "task.log", "task.result"])
      assert.deepStrictEqual(yield* entries(root), ["archive", "done"])
    }),
  )

  it.scopedLive("skips a legacy task whose recorded process may still be codex", () =>
    Effect.gen(function* () {
      const { store, root } = yield* legacyStore("exec-era")
      const codexLike = yield* spawnChild("bash", ["-c", "exec -a codex sleep 30"])
      yield* Effect.sleep("100 millis")
      const dir = join(root, "0199d7c3-0a11-7b22-8c33-4d4e5f607182")
      yield* Effect.promise(() => writeFile(join(dir, "task.pid"), `${codexLike.pid}\n`))
      const report = yield* archive(store, "0199d7c3")
      assert.deepStrictEqual<unknown>(report, {
        id: "0199d7c3-0a11-7b22-8c33-4d4e5f607182",
        status: "skipped",
        state: "RUNNING",
      })
      assert.isTrue(yield* exists(join(dir, "task.json")))
    }),
  )
})

describe("tasks we write stay readable by the Rust tool", () => {
  it.scoped("every field we add is one it ignores; its own fields keep their types", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "ct-rust-reader-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true })),
      )
      const store = yield* Effect.provide(TaskStore, TaskStore.layer(join(dir, "store")))
      const loc = yield* store.create(
        Schema.decodeUnknownSync(TaskMeta)({
          id: "0199e000-0000-7000-8000-000000000001",
          title: "ours",
          state: "RUNNING",
          created_at: "2026-01-01T00:00:00.000Z",
          updated_at: "2026-01-01T00:00:00.000Z",
          initial_prompt: "first",
          last_prompt: "first",
          working_dir: "/tmp",
          exec: { working_dir: "/tmp", model: "o3", config_overrides: ["a=1"] },
        }),
      )
      for (const state of ["STOPPED", "DIED", "ARCHIVED", "RUNNING"] as const) {
        yield* store.update(loc, (m) => ({
          ...m,
          state,
          last_result: "done",
          last_outcome: { kind: "completed", at: "2026-01-01T00:00:01.000Z" },
          usage: {
            input_tokens: 1,
            cached_input_tokens: 0,
            output_tokens: 2,
            reasoning_output_tokens: 0,
          },
          turns: 1,
          dropped_prompts: 0,
        }))
        const raw = yield* json(join(loc.dir, "task.json"))
        const rust = Schema.decodeUnknownSync(RustTaskJson)(raw)
        assert.deepStrictEqual(
          [rust.id, rust.state, rust.title, rust.last_result, rust.working_dir],
          [loc.id, state, "ours", "done", "/tmp"],
        )
      }
    }),
  )
})
