import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"

// `codex-tasks doctor` as a user runs it: a healthy set-up passes (exit 0), a missing codex or
// a store that cannot be created fails (exit 1) with a fix, and --json carries the same checks.
const cli = join(process.cwd(), "dist/bin/codex-tasks.js")
const codex = join(process.cwd(), "node_modules/.bin/codex")
const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const doctor = (...args: Array<string>) => {
  const dir = mkdtempSync(join(tmpdir(), "ct-doctor-"))
  dirs.push(dir)
  const env = { ...process.env, CODEX_HOME: dir, OPENAI_API_KEY: "sk-not-printed" }
  return {
    dir,
    run: (extra: Array<string>) =>
      spawnSync(process.execPath, [cli, "doctor", ...args, ...extra], { env, encoding: "utf8" }),
  }
}

describe("codex-tasks doctor", () => {
  it("passes a healthy set-up and never prints the key", () => {
    const { dir, run } = doctor("--codex-bin", codex)
    const r = run(["--store-root", join(dir, "store")])
    assert.strictEqual(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /✓ codex: .*codex-cli \d+\.\d+\.\d+/)
    assert.match(r.stdout, /OPENAI_API_KEY is set/)
    assert.notInclude(r.stdout + r.stderr, "sk-not-printed")
  })

  it("fails with a fix when codex is missing or the store cannot be made", () => {
    const { dir, run } = doctor("--codex-bin", "/nonexistent/codex")
    writeFileSync(join(dir, "file"), "")
    const r = run(["--store-root", join(dir, "file", "store"), "--json"])
    assert.strictEqual(r.status, 1)
    const report = JSON.parse(r.stdout) as {
      ok: boolean
      checks: Array<{ name: string; ok: boolean; fix?: string }>
    }
    assert.isFalse(report.ok)
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name)
    assert.includeMembers(failed, ["codex", "store"])
    assert.isTrue(report.checks.filter((c) => !c.ok).every((c) => typeof c.fix === "string"))
  })
})
