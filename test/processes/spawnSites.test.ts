import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"

const src = join(process.cwd(), "src")
const files = (readdirSync(src, { recursive: true }) as Array<string>)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({
    path: relative(process.cwd(), join(src, f)),
    text: readFileSync(join(src, f), "utf8"),
  }))

const where = (pattern: RegExp) => files.filter((f) => pattern.test(f.text)).map((f) => f.path)

// Children are started in one place: `processes/child.ts` (and `launcher/prewarm.ts`, which runs
// in the launcher before Effect is loaded). Signals go out through `processes/` only.
describe("one way to run a child process", () => {
  it("spawn( appears in at most two files under src/: processes/child.ts and launcher/prewarm.ts", () => {
    const spawning = where(/(?<![\w.])spawn(Sync)?\(/)
    expect(spawning.length).toBeLessThanOrEqual(2)
    const expected = ["src/launcher/prewarm.ts", "src/processes/child.ts"]
    expect(spawning.sort()).toEqual(expected)
    expect(where(/from "(node:)?child_process"/).sort()).toEqual(expected)
  })

  it("process.kill is called only under src/processes/", () => {
    const killing = where(/process\.kill\(/).filter((p) => !p.startsWith("src/processes/"))
    expect(killing).toEqual([])
  })
})
