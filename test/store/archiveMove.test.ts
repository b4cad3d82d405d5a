import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { TaskId } from "../../src/domain/taskId.js"
import type { TaskLocation } from "../../src/store/layout.js"
import { moveToArchive } from "../../src/store/legacy.js"
import type { MoveFs } from "../../src/store/move.js"

// `archive` moves a task directory with one rename; when the archive directory is on another
// filesystem (a bind mount) that rename fails with EXDEV and the move falls back to copy + fsync +
// remove. The device boundary is simulated: a rename between the archive and the rest of the
// store fails with EXDEV, as the kernel's would.

const ID = "0199d7c3-0a11-7b22-8c33-4d4e5f607182" as TaskId

const scratch = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-exdev-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const exdev = () =>
  Object.assign(new Error("EXDEV: cross-device link not permitted"), { code: "EXDEV" })

/** Renames across `archive/` and the rest of `root` fail with EXDEV; copies work. */
const crossDevice = (root: string): MoveFs => {
  const inArchive = (p: string) => !relative(join(root, "archive"), p).startsWith("..")
  return {
    rename: (from, to) =>
      inArchive(from) === inArchive(to) ? rename(from, to) : Promise.reject(exdev()),
    copyFile: (from, to) => copyFile(from, to),
  }
}

const TASK_JSON = '{"id":"x","state":"ARCHIVED"}\n'
const FILES: Record<string, string> = {
  "task.json": TASK_JSON,
  "task.log": '{"type":"thread.started"}\n{"type":"turn.completed"}\n',
  "task.result": "done\n",
  "inbox/0000000002.json": '{"prompt":"later"}\n',
}

const makeTask = (root: string) =>
  Effect.promise(async () => {
    const dir = join(root, ID)
    await mkdir(join(dir, "inbox"), { recursive: true, mode: 0o700 })
    for (const [name, text] of Object.entries(FILES))
      await writeFile(join(dir, name), text, { mode: 0o600 })
    return { id: ID, dir, archived: false } satisfies TaskLocation
  })

/** Every file under `dir` (relative path → content). */
const contents = (dir: string) =>
  Effect.promise(async () => {
    const out: Record<string, string> = {}
    for (const name of await readdir(dir, { recursive: true })) {
      const path = join(dir, name)
      if ((await stat(path)).isFile()) out[name] = await readFile(path, "utf8")
    }
    return out
  })

const exists = (path: string) =>
  Effect.promise(() =>
    stat(path).then(
      () => true,
      () => false,
    ),
  )

const targetIn = (root: string) => join(root, "archive", "2025", "01", "02", ID)

describe("moveToArchive across filesystems (EXDEV)", () => {
  it.scoped(
    "copies, fsyncs and removes: the archived task is complete and the store is clean",
    () =>
      Effect.gen(function* () {
        const root = yield* scratch
        const loc = yield* makeTask(root)
        const target = targetIn(root)
        yield* moveToArchive(loc, target, crossDevice(root))
        assert.deepStrictEqual(yield* contents(target), FILES)
        assert.strictEqual(
          (yield* Effect.promise(() => stat(join(target, "task.log")))).mode & 0o777,
          0o600,
        )
        assert.deepStrictEqual(yield* Effect.promise(() => readdir(root)), ["archive"])
        assert.deepStrictEqual(yield* Effect.promise(() => readdir(join(target, ".."))), [ID])
      }),
  )

  it.scoped("a crash mid-copy leaves the task where it was, and archiving again completes it", () =>
    Effect.gen(function* () {
      const root = yield* scratch
      const loc = yield* makeTask(root)
      const target = targetIn(root)
      const fs = crossDevice(root)
      let copies = 0
      const crashing: MoveFs = {
        ...fs,
        copyFile: (from, to) =>
          ++copies === 2
            ? Promise.reject(new Error("EIO: the machine went down"))
            : fs.copyFile(from, to),
      }
      const error = yield* Effect.flip(moveToArchive(loc, target, crashing))
      assert.strictEqual(error._tag, "StoreError")
      assert.deepStrictEqual(yield* contents(loc.dir), FILES, "the task is untouched")
      assert.isFalse(yield* exists(target), "no half-copied task in the archive")
      yield* moveToArchive(loc, target, fs)
      assert.deepStrictEqual(yield* contents(target), FILES)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(root)), ["archive"])
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(join(target, ".."))), [ID])
    }),
  )

  it.scoped("a crash after the copy, before the source is removed: archiving again finishes", () =>
    Effect.gen(function* () {
      const root = yield* scratch
      const loc = yield* makeTask(root)
      const target = targetIn(root)
      const fs = crossDevice(root)
      const crashing: MoveFs = {
        ...fs,
        // The first same-side rename of the task directory (its removal) fails.
        rename: (from, to) =>
          from === loc.dir && !to.includes("archive")
            ? Promise.reject(new Error("EIO: the machine went down"))
            : fs.rename(from, to),
      }
      yield* Effect.flip(moveToArchive(loc, target, crashing))
      assert.deepStrictEqual(yield* contents(target), FILES, "the copy is complete")
      assert.deepStrictEqual(yield* contents(loc.dir), FILES, "the source is still whole")
      yield* moveToArchive(loc, target, fs)
      assert.deepStrictEqual(yield* contents(target), FILES)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(root)), ["archive"])
    }),
  )

  it.scoped("a flat-era task's files move one by one", () =>
    Effect.gen(function* () {
      const root = yield* scratch
      const loc: TaskLocation = { id: ID, dir: root, archived: false, layout: "flat" }
      yield* Effect.promise(async () => {
        await writeFile(join(root, `${ID}.json`), TASK_JSON)
        await writeFile(join(root, `${ID}.log`), "text log\n")
      })
      const target = targetIn(root)
      yield* moveToArchive(loc, target, crossDevice(root))
      assert.deepStrictEqual(yield* contents(target), {
        "task.json": TASK_JSON,
        "task.log": "text log\n",
      })
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(root)), ["archive"])
    }),
  )
})
