import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { fileChangesOf, lastTurnFiles } from "../../src/tasks/logFiles.js"
import type { ReadLogStats } from "../../src/tasks/logReader.js"

const KiB = 1024
const MiB = 1024 * KiB

const line = (e: unknown) => `${JSON.stringify(e)}\n`
const prompt = (message: string) =>
  line({ type: "user_message", message, at: "2026-01-01T00:00:00Z" })
const changed = (...paths: Array<string>) =>
  line({
    type: "item.completed",
    item: {
      id: "item_1",
      type: "file_change",
      changes: paths.map((path) => ({ path, kind: "update" })),
      status: "completed",
    },
  })
/** A command's output of about `bytes` bytes (what makes logs big). */
const output = (bytes: number) =>
  line({
    type: "item.completed",
    item: {
      id: "item_0",
      type: "command_execution",
      command: "npm test",
      aggregated_output: "ok\n".repeat(bytes / 3),
      exit_code: 0,
      status: "completed",
    },
  })
const turn = (n: number, file: string) =>
  prompt(`step ${n}`) + output(200 * KiB) + changed(file) + line({ type: "turn.completed" })

let dir = ""
let log = ""
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ct-logfiles-"))
  log = join(dir, "task.log")
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const lastTurn = () => {
  const stats: ReadLogStats = { bytesRead: 0 }
  return { files: lastTurnFiles(log, stats), bytesRead: stats.bytesRead }
}

describe("lastTurnFiles", () => {
  it("reads only the end of a big log whose last turn is small", () => {
    const earlier = Array.from({ length: 40 }, (_, n) => turn(n, `/w/old${n}.ts`)).join("")
    writeFileSync(
      log,
      earlier + prompt("last") + changed("/w/last.ts") + line({ type: "turn.completed" }),
    )
    const { files, bytesRead } = lastTurn()
    assert.deepStrictEqual(files, ["/w/last.ts"])
    assert.isAbove(earlier.length, 8 * MiB)
    assert.isAbove(bytesRead, 0)
    assert.isAtMost(bytesRead, 128 * KiB, "only the last turn is read, not the 8 MiB before it")
  })

  it("finds the last prompt far from the end (a last turn of several backward reads)", () => {
    const last =
      prompt("last") + changed("/w/a.ts") + output(3 * MiB) + changed("/w/b.ts", "/w/a.ts")
    writeFileSync(log, turn(0, "/w/old.ts") + last + output(MiB) + line({ type: "turn.completed" }))
    const { files, bytesRead } = lastTurn()
    assert.deepStrictEqual(files, ["/w/a.ts", "/w/b.ts"])
    // Backwards to the prompt (with overlaps and the final, larger read) and forward again.
    assert.isBelow(bytesRead, 3 * (4 * MiB + 200))
  })

  it("takes the whole log when its only prompt is at the very start", () => {
    writeFileSync(
      log,
      prompt("only") +
        changed("/w/first.ts") +
        output(6 * MiB) +
        changed("/w/second.ts") +
        output(KiB),
    )
    assert.deepStrictEqual(lastTurn().files, ["/w/first.ts", "/w/second.ts"])
  })

  it("finds a prompt whose line spans the boundary of a backward read", () => {
    // The first backward read covers the last 64 KiB: start the prompt's line `k` bytes before it,
    // so its mark ('{"type":"user_message"', 22 bytes) lies across, inside or outside that read.
    const tail = changed("/w/last.ts") + line({ type: "turn.completed" })
    const mark = prompt("last")
    const empty = line({ type: "item.completed", item: { type: "reasoning", text: "" } })
    for (const k of [0, 1, 5, 11, 20, 21, 22, 23, 100]) {
      const fill = line({
        type: "item.completed",
        item: {
          type: "reasoning",
          text: "r".repeat(64 * KiB + k - mark.length - tail.length - empty.length),
        },
      })
      const text = turn(0, "/w/old.ts") + mark + fill + tail
      assert.strictEqual(text.length - text.lastIndexOf(mark), 64 * KiB + k)
      writeFileSync(log, text)
      assert.deepStrictEqual(lastTurn().files, ["/w/last.ts"], `mark ${k} bytes before the read`)
    }
  })

  it("reads a file_change line that spans the boundary of a forward read", () => {
    // The forward scan reads 1 MiB at a time from the prompt on.
    const head = prompt("last")
    for (const before of [10, 100, 200]) {
      const fill = output(MiB - head.length - before)
      const pad = MiB - head.length - fill.length - before
      writeFileSync(
        log,
        head + fill + " ".repeat(Math.max(pad, 0)) + changed("/w/across.ts") + output(KiB),
      )
      assert.deepStrictEqual(
        lastTurn().files,
        ["/w/across.ts"],
        `${before} bytes before the boundary`,
      )
    }
  })

  it("scans the whole log when it has no prompt (as before)", () => {
    writeFileSync(log, changed("/w/a.ts") + output(300 * KiB) + changed("/w/b.ts") + output(KiB))
    assert.deepStrictEqual(lastTurn().files, ["/w/a.ts", "/w/b.ts"])
  })

  it("ignores a torn last line", () => {
    const torn = changed("/w/torn.ts").slice(0, 60)
    writeFileSync(log, turn(0, "/w/old.ts") + prompt("last") + changed("/w/last.ts") + torn)
    assert.deepStrictEqual(lastTurn().files, ["/w/last.ts"])
  })

  it("finds a prompt written after a torn line (a worker lost mid-line)", () => {
    const torn = output(KiB).slice(0, 100)
    writeFileSync(log, turn(0, "/w/old.ts") + torn + prompt("last") + changed("/w/last.ts"))
    assert.deepStrictEqual(lastTurn().files, ["/w/last.ts"])
  })

  it("returns nothing for a missing or empty log", () => {
    assert.deepStrictEqual(lastTurn().files, [])
    writeFileSync(log, "")
    assert.deepStrictEqual(lastTurn().files, [])
  })

  it("reports the files of a last turn over 512 MiB (more than a string can hold)", () => {
    // A sparse file: 520 MiB of zero bytes between the prompt and the file change, no disk used.
    const fd = openSync(log, "w")
    writeSync(fd, prompt("last") + changed("/w/a.ts"))
    ftruncateSync(fd, 520 * MiB)
    writeSync(fd, `\n${changed("/w/b.ts")}`, 520 * MiB)
    closeSync(fd)
    assert.deepStrictEqual(lastTurn().files, ["/w/a.ts", "/w/b.ts"])
  })
})

describe("fileChangesOf", () => {
  it("lists the files of every turn", () => {
    writeFileSync(log, `${turn(0, "/w/a.ts")}${turn(1, "/w/b.ts")}${turn(2, "/w/a.ts")}`)
    assert.deepStrictEqual(fileChangesOf(log), ["/w/a.ts", "/w/b.ts"])
  })
})
