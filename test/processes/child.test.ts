import { spawnSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, TestClock } from "effect"
import { type ChildEnd, runToEnd, startDetached } from "../../src/processes/child.js"
import { until } from "../support/workerHarness.js"

let n = 0
/** A `sleep` whose command line is unique to this test, and how many such processes run. */
const uniqueSleep = () => {
  const marker = `sleep 30.${process.pid}${(n++).toString().padStart(3, "0")}`
  const count = () =>
    spawnSync("pgrep", ["-fc", `^${marker}$`], { encoding: "utf8" }).stdout.trim() || "0"
  return { marker, count: () => Number(count()) }
}

describe("runToEnd", () => {
  it.effect("returns a non-zero exit with what it printed, as data", () =>
    Effect.gen(function* () {
      const r = yield* runToEnd("sh", ["-c", 'printf "out\\n"; printf "err\\n" >&2; exit 3'])
      assert.deepStrictEqual(r, {
        exitCode: 3,
        signal: null,
        stdout: "out\n",
        stderr: "err\n",
        timedOut: false,
      })
    }),
  )

  it.effect("feeds stdin and keeps only the last bytes of a long output", () =>
    Effect.gen(function* () {
      const r = yield* runToEnd("sh", ["-c", "cat; cat >&2 <<EOF\nabcdef\nEOF"], {
        stdin: "0123456789",
        maxOutputBytes: 4,
      })
      assert.strictEqual(r.stdout, "6789")
      assert.strictEqual(r.stderr, "def\n")
    }),
  )

  it.effect("fails with ChildNotStarted (its errno code) when the program does not exist", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(runToEnd("/nonexistent/codex-tasks-test", []))
      assert.strictEqual(e._tag, "ChildNotStarted")
      assert.strictEqual(e.code, "ENOENT")
      assert.include(e.message, "/nonexistent/codex-tasks-test")
    }),
  )

  it.live("interrupted, it kills the child's whole process group", () =>
    Effect.gen(function* () {
      const { marker, count } = uniqueSleep()
      const fiber = yield* Effect.fork(runToEnd("sh", ["-c", `${marker} & ${marker}`]))
      yield* until("both sleeps", () => count() === 2)
      yield* Fiber.interrupt(fiber)
      yield* until("no sleep left", () => count() === 0)
    }),
  )

  it.effect("after timeoutMs (on the Clock) it kills the group and says so", () =>
    Effect.gen(function* () {
      const { marker, count } = uniqueSleep()
      const fiber = yield* Effect.fork(
        runToEnd("sh", ["-c", `${marker} & ${marker}`], { timeoutMs: 10_000 }),
      )
      yield* until("both sleeps", () => count() === 2)
      yield* TestClock.adjust(Duration.seconds(9))
      assert.isNull(fiber.unsafePoll(), "still running at 9 s")
      yield* TestClock.adjust(Duration.seconds(1))
      const r = yield* Fiber.join(fiber)
      assert.isTrue(r.timedOut)
      assert.strictEqual(r.signal, "SIGKILL")
      yield* until("no sleep left", () => count() === 0)
    }),
  )
})

describe("startDetached", () => {
  it.live("runs in its own group, gets stdin then EOF, and hands over stdout's exact bytes", () =>
    Effect.gen(function* () {
      const chunks: Array<Buffer> = []
      let stderr = ""
      const ended = yield* Deferred.make<ChildEnd>()
      const child = yield* startDetached(
        "sh",
        ["-c", `cat; printf '\\377\\n'; ps -o pgid= -p $$ >&2; echo "$MARK" >&2; exit 5`],
        {
          env: { ...process.env, MARK: "marked" },
          stdin: "prompt\n",
          onStdout: (c) => chunks.push(c),
          onStderr: (c) => {
            stderr += c.toString("utf8")
          },
          onClose: (end) => Deferred.unsafeDone(ended, Exit.succeed(end)),
        },
      )
      const end = yield* child.closed
      assert.deepStrictEqual(end, { exitCode: 5, signal: null })
      assert.deepStrictEqual(yield* Deferred.await(ended), end)
      assert.deepStrictEqual(Buffer.concat(chunks), Buffer.from("prompt\n\xff\n", "latin1"))
      // Its own process group: its group id is its pid.
      assert.strictEqual(stderr.replace(/ /g, ""), `${child.pid}\nmarked\n`)
    }),
  )

  it.effect("fails with ChildNotStarted when it cannot start", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(startDetached("/nonexistent/codex-tasks-test", [], {}))
      assert.strictEqual(e.code, "ENOENT")
    }),
  )
})
