import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"

// `npm run demo` is the smoke test of a fresh set-up: it runs a whole lifecycle through the built
// CLI and the real codex, checks its own outcome, and exits non-zero when anything is off.
describe("npm run demo", () => {
  it("runs a real lifecycle and says so", async () => {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ["scripts/demo.mjs"], {
        stdio: ["ignore", "pipe", "pipe"],
      })
      let out = ""
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString()
      })
      child.stderr.on("data", (c: Buffer) => {
        out += c.toString()
      })
      child.on("close", (c) => resolve({ code: c, out }))
    })
    expect(out).toContain("the model is SCRIPTED")
    expect(out).toContain("prompt queued at position 1")
    expect(out).toContain("✓ no process of the stopped task is left")
    expect(out).toContain("demo succeeded")
    expect(code).toBe(0)
  }, 180_000)
})
