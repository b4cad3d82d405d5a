import { spawnSync } from "node:child_process"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { transformSync } from "esbuild"
import { describe, expect, it } from "vitest"

// The README's embedder example, exactly as printed, compiles and runs against the built package
// (it imports "codex-tasks" and "codex-tasks/testing" by name, as an embedder would).
describe("README", () => {
  it("the library example runs and prints the outcome", () => {
    const readme = readFileSync("README.md", "utf8")
    const section = readme.slice(readme.indexOf("## Library use"))
    const match = /```ts\n([\s\S]*?)```/.exec(section)
    expect(match?.[1]).toBeDefined()
    const js = transformSync(match?.[1] ?? "", { loader: "ts", format: "esm" }).code
    const file = join(process.cwd(), ".readme-example.mjs") // inside the package: self-reference works
    writeFileSync(file, js)
    try {
      const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 30_000 })
      expect(r.stderr).not.toContain("Error")
      expect(r.stdout.trim().split("\n").pop()).toBe("Completed")
    } finally {
      rmSync(file, { force: true })
    }
  })
})
