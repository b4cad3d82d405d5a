import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Schema } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import { fakeRunProcess, makeFakeWorld, taskId } from "../support/fakeWorld.js"

// A start killed while it creates its task (after the directory appeared, before task.json):
// the directory is not a task, and nothing would ever remove it (issue 20 §1, crash sweep).

const meta = (id: string) =>
  Schema.decodeUnknownSync(TaskMeta)({
    id,
    state: "RUNNING",
    created_at: "2026-12-07T16:00:00.000Z",
    updated_at: "2026-12-07T16:00:00.000Z",
  })

describe("unfinished task creations", () => {
  it.scoped("a dead creator's directory is swept; a live creator's is left alone", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const creating = (id: string, pid: number) =>
        Effect.gen(function* () {
          const owner = yield* world.fake.spawn({ pid, command: "codex-tasks __worker" })
          const inside = yield* Deferred.make<void>()
          // the creator is killed while it fills the directory
          const fiber = yield* Effect.fork(
            world.store.create(
              meta(id),
              () => Effect.zipRight(Deferred.succeed(inside, undefined), Effect.never),
              owner,
            ),
          )
          yield* Deferred.await(inside)
          yield* Fiber.interrupt(fiber)
          return join(world.root, id)
        })
      const dead = yield* creating(taskId(1), 4101)
      const alive = yield* creating(taskId(2), 4102)
      yield* world.fake.exit(4101)
      assert.isTrue(existsSync(dead) && !existsSync(join(dead, "task.json")))

      yield* world.store.sweepScratch(undefined)
      assert.isFalse(existsSync(dead), "the dead creator's directory is gone")
      assert.isTrue(existsSync(alive), "a creation in progress is not touched")
      assert.deepStrictEqual(yield* world.store.list({ includeArchived: false }), [])
    }),
  )

  it.scoped("a start whose worker died before its task existed: its codex run is ended", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const worker = yield* world.fake.spawn({ pid: 4201, command: "codex-tasks __worker" })
      const startDir = world.store.startDirOf("start-dead")
      yield* world.store.makeStartDir(startDir, worker, "run-of-the-dead-start")
      yield* fakeRunProcess(world, 4202, "run-of-the-dead-start", "codex exec --json -", 4201)
      yield* world.fake.exit(4201) // the worker is SIGKILLed; its codex goes on
      yield* world.store.sweepScratch(undefined)
      const killed = (yield* world.fake.signals).filter((s) => s.signal === "SIGKILL")
      assert.deepStrictEqual(
        killed.map((s) => s.target),
        [4202],
        "the codex run the dead start left is killed",
      )
      assert.isFalse(existsSync(startDir))
    }),
  )

  it.scoped("a log line a killed worker tore is sealed when the next worker takes over", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const loc = yield* world.store.create(meta(taskId(4)))
      const whole = '{"type":"user_message","message":"one"}\n'
      writeFileSync(world.store.logPath(loc), `${whole}{"type":"worker","mess`)
      yield* world.store.sweepScratch(loc)
      yield* world.store.appendLog(loc, '{"type":"worker","message":"resumed"}\n')
      const lines = readFileSync(world.store.logPath(loc), "utf8").split("\n")
      // the torn line keeps its own line; the next entry is not glued onto it
      assert.deepStrictEqual(lines, [
        '{"type":"user_message","message":"one"}',
        '{"type":"worker","mess',
        '{"type":"worker","message":"resumed"}',
        "",
      ])
    }),
  )

  it.scoped("temporary files of a writer that died are swept when the task is taken over", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const loc = yield* world.store.create(meta(taskId(3)))
      // pid 2^22 + 1 is above Linux's pid_max: never alive
      const deadTemp = `.task.json.${4_194_305}.0123456789ab.tmp`
      const liveTemp = `.task.json.${process.pid}.0123456789ab.tmp`
      writeFileSync(join(loc.dir, deadTemp), '{"half')
      writeFileSync(join(loc.dir, liveTemp), '{"in progress')
      yield* world.store.sweepScratch(loc)
      const names = readdirSync(loc.dir)
      assert.notInclude(names, deadTemp)
      assert.include(names, liveTemp)
    }),
  )

  it.scoped("a worktree intent record half-written by a killed start is swept (sweep find)", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const parent = join(world.store.root, ".worktrees")
      mkdirSync(parent, { recursive: true })
      const deadTemp = `.88178c395480.json.${4_194_305}.f30ac1a60855.tmp`
      const liveTemp = `.0a0b0c0d0e0f.json.${process.pid}.f30ac1a60855.tmp`
      writeFileSync(join(parent, deadTemp), '{"repo":')
      writeFileSync(join(parent, liveTemp), '{"repo":')
      yield* world.store.sweepScratch(undefined)
      assert.deepStrictEqual(readdirSync(parent), [liveTemp])
    }),
  )
})
