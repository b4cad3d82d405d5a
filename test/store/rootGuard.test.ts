import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { checkStoreRoot, guardStoreRoot } from "../../src/store/rootGuard.js"

const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ct-root-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

const reason = (path: string, uid?: number) => {
  const check = checkStoreRoot(path, uid)
  return Either.isLeft(check) ? check.left.reason : `passed: ${check.right._tag}`
}

describe("checkStoreRoot", () => {
  it.scoped("a root that does not exist yet (or whose parent is a file) passes as Missing", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      writeFileSync(join(dir, "file"), "")
      assert.deepStrictEqual(checkStoreRoot(join(dir, "store")), Either.right({ _tag: "Missing" }))
      assert.deepStrictEqual(
        checkStoreRoot(join(dir, "file", "store")),
        Either.right({ _tag: "Missing" }),
      )
    }),
  )

  it.scoped("refuses a file, a dangling symlink and a directory of another uid", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      writeFileSync(join(dir, "file"), "")
      assert.strictEqual(reason(join(dir, "file")), "is not a directory")
      symlinkSync(join(dir, "nowhere"), join(dir, "dangling"))
      assert.match(reason(join(dir, "dangling")), /^is a symlink to nothing usable \(ENOENT\)/)
      const mine = join(dir, "mine")
      mkdirSync(mine, { mode: 0o700 })
      const me = statSync(mine).uid
      assert.match(reason(mine, me + 1), new RegExp(`^is owned by uid ${me}, not by you`))
      assert.strictEqual(reason(mine, me), "passed: Private")
    }),
  )

  it.scoped("tightens 0755 and 0711 but leaves 0700 alone; the notice names both modes", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      const root = join(dir, "store")
      mkdirSync(root)
      const lines: Array<string> = []
      const notify = (line: string) => lines.push(line)
      for (const mode of [0o755, 0o711]) {
        chmodSync(root, mode)
        const check = yield* guardStoreRoot(root, { notify })
        assert.deepStrictEqual(check, { _tag: "Tightened", from: mode })
        assert.strictEqual(statSync(root).mode & 0o777, 0o700)
      }
      assert.deepStrictEqual(yield* guardStoreRoot(root, { notify }), {
        _tag: "Private",
        mode: 0o700,
      })
      assert.deepStrictEqual(lines, [
        `tightened the store root ${root} from mode 755 to 700 (only you should read your tasks)`,
        `tightened the store root ${root} from mode 711 to 700 (only you should read your tasks)`,
      ])
    }),
  )

  it.scoped("fails with UnsafeStoreRoot on a group-writable root, without changing it", () =>
    Effect.gen(function* () {
      const dir = yield* scratch
      const root = join(dir, "store")
      mkdirSync(root)
      chmodSync(root, 0o770)
      const error = yield* Effect.flip(guardStoreRoot(root))
      assert.strictEqual(error._tag, "UnsafeStoreRoot")
      assert.strictEqual(
        error.message,
        `The store root ${root} is writable by the group (mode 770): another user could replace its tasks (and the options the next send replays); check what is in it, then chmod 700 ${root}.`,
      )
      assert.strictEqual(statSync(root).mode & 0o777, 0o770)
    }),
  )
})
