import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cloneRepo } from "../../src/tasks/repo.js"
import { git } from "../support/git.js"

const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ct-repo-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

const makeSource = (base: string) => {
  const source = join(base, "source")
  mkdirSync(source)
  git(source, "init", "-q", "-b", "main")
  writeFileSync(join(source, "f.txt"), "one\n")
  git(source, "add", ".")
  git(source, "commit", "-qm", "one")
  return source
}

describe("cloneRepo", () => {
  it.scoped("clones into an existing empty directory, leaving nothing beside it", () =>
    Effect.gen(function* () {
      const base = yield* scratch
      const source = makeSource(base)
      const target = join(base, "work")
      mkdirSync(target)
      yield* cloneRepo(source, target, undefined)
      assert.strictEqual(readFileSync(join(target, "f.txt"), "utf8"), "one\n")
      assert.deepStrictEqual(readdirSync(base).sort(), ["source", "work"])
    }),
  )

  it.scoped(
    "a failed clone removes its temporary clone and the parents it made, nothing else",
    () =>
      Effect.gen(function* () {
        const base = yield* scratch
        const empty = join(base, "empty")
        mkdirSync(empty)
        const error = yield* Effect.flip(cloneRepo(join(base, "nope"), empty, undefined))
        assert.match(error.message, /git clone failed/)
        assert.isTrue(existsSync(empty), "the empty directory it was given is still there")
        const nested = join(base, "a", "b", "work")
        yield* Effect.flip(cloneRepo(join(base, "nope"), nested, undefined))
        assert.deepStrictEqual(readdirSync(base).sort(), ["empty"])
      }),
  )

  it.scoped("refuses a directory that is not empty and leaves it as it is", () =>
    Effect.gen(function* () {
      const base = yield* scratch
      const source = makeSource(base)
      const target = join(base, "work")
      mkdirSync(target)
      writeFileSync(join(target, "mine"), "keep\n")
      const error = yield* Effect.flip(cloneRepo(source, target, undefined))
      assert.strictEqual(error.message, `--working-dir ${target} exists and is not empty`)
      assert.deepStrictEqual(readdirSync(target), ["mine"])
      assert.deepStrictEqual(readdirSync(base).sort(), ["source", "work"])
    }),
  )
})
