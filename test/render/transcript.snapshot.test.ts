import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { makeStyle } from "../../src/render/style.js"
import { makeTranscriptRenderer } from "../../src/render/transcript.js"

const root = join(import.meta.dirname, "../..")
const execFixtures = join(root, "fixtures/codex-exec")
const legacyStores = join(root, "fixtures/legacy-stores")

/** What `log` prints for a finished task: every line, then whatever never completed. */
const transcript = (file: string): string => {
  const renderer = makeTranscriptRenderer({ style: makeStyle(false) })
  const lines = readFileSync(file, "utf8").split("\n")
  if (lines.at(-1) === "") lines.pop()
  return lines.map(renderer.line).join("") + renderer.pending(true)
}

const logsUnder = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".log"))
    .sort()

describe("transcript snapshots", () => {
  it.each(readdirSync(execFixtures).filter((f) => f.endsWith(".jsonl")))("%s", async (file) => {
    await expect(transcript(join(execFixtures, file))).toMatchFileSnapshot(
      `__snapshots__/transcript/codex-exec/${file.replace(/\.jsonl$/, ".txt")}`,
    )
  })

  it("covers the legacy logs of every era", () => {
    const eras = new Set(logsUnder(legacyStores).map((f) => f.split("/")[0]))
    expect([...eras].sort()).toEqual(["exec-era", "flat-era", "proto-era"])
  })

  it.each(logsUnder(legacyStores))("legacy %s", async (file) => {
    const name = relative(".", file)
      .replaceAll("/", "__")
      .replace(/\.log$/, ".txt")
    await expect(transcript(join(legacyStores, file))).toMatchFileSnapshot(
      `__snapshots__/transcript/legacy-stores/${name}`,
    )
  })
})
