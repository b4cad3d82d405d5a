import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { checkAuth, checkCodex, checkNode, checkStore, runChecks } from "../../src/tasks/doctor.js"

const codex = join(process.cwd(), "node_modules/.bin/codex")
const dirs: Array<string> = []
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "doctor-"))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    chmodSync(d, 0o700)
    rmSync(d, { recursive: true, force: true })
  }
})

describe("doctor", () => {
  it("passes in a healthy environment: codex found with its version and flags, store private", async () => {
    const checks = await Effect.runPromise(
      runChecks({ codexBin: codex, storeRoot: join(scratch(), "store") }),
    )
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]))
    expect(byName.codex?.ok).toBe(true)
    expect(byName.codex?.detail).toMatch(/codex-cli \d+\.\d+\.\d+/)
    expect(byName.codex?.detail).toContain("npm shim")
    expect(byName["codex exec flags"]?.ok).toBe(true)
    expect(byName.store?.ok).toBe(true)
    expect(checks.filter((c) => c.required && !c.ok)).toEqual([])
  })

  it("fails the codex check with a fix when codex is missing", async () => {
    const [check] = await Effect.runPromise(checkCodex("/nonexistent/codex"))
    expect(check?.ok).toBe(false)
    expect(check?.required).toBe(true)
    expect(check?.fix).toContain("npm install -g @openai/codex")
    expect(
      (await Effect.runPromise(checkCodex("codex-tasks-no-such-binary")))[0]?.detail,
    ).toContain("not found on PATH")
  })

  it("fails the store check when the store cannot be written", () => {
    const parent = scratch()
    chmodSync(parent, 0o500)
    const check = checkStore(join(parent, "store"))
    // root ignores permissions: make the target a file instead, which no one can mkdir into
    if (check.ok) {
      chmodSync(parent, 0o700)
      writeFileSync(join(parent, "file"), "")
      const again = checkStore(join(parent, "file", "store"))
      expect(again.ok).toBe(false)
      expect(again.detail).toContain("is not writable")
    } else {
      expect(check.detail).toContain("is not writable")
    }
  })

  it("tightens a store of ours that others can read, and says so", () => {
    const root = join(scratch(), "store")
    mkdirSync(root)
    chmodSync(root, 0o755)
    const check = checkStore(root)
    expect(check.ok).toBe(true)
    expect(check.detail).toBe(`${root} is writable (mode 700; tightened from 755)`)
    expect(statSync(root).mode & 0o777).toBe(0o700)
  })

  it("fails a store that others can write, with a fix, and leaves it as it is", () => {
    const root = join(scratch(), "store")
    mkdirSync(root)
    chmodSync(root, 0o777)
    const check = checkStore(root)
    expect(check.ok).toBe(false)
    expect(check.detail).toMatch(/is writable by the group and others \(mode 777\)/)
    expect(check.fix).toBe(`check what is in it, then chmod 700 ${root}`)
    expect(statSync(root).mode & 0o777).toBe(0o777)
  })

  it("the write probe never writes through a symlink planted in the store", () => {
    const base = scratch()
    const root = join(base, "store")
    mkdirSync(root, { mode: 0o700 })
    const outside = join(base, "outside")
    writeFileSync(outside, "precious\n")
    // The old probe's predictable name, and a name the test hands the probe.
    symlinkSync(outside, join(root, `.doctor-${process.pid}`))
    expect(checkStore(root).ok).toBe(true)
    expect(readFileSync(outside, "utf8")).toBe("precious\n")
    symlinkSync(outside, join(root, ".probe"))
    const planted = checkStore(root, ".probe")
    expect(planted.ok).toBe(false)
    expect(planted.detail).toContain("EEXIST")
    expect(readFileSync(outside, "utf8")).toBe("precious\n")
    expect(lstatSync(join(root, ".probe")).isSymbolicLink()).toBe(true)
    expect(readdirSync(root).sort()).toEqual([`.doctor-${process.pid}`, ".probe"])
  })

  it("reports credentials without printing them", () => {
    const home = scratch()
    const [, creds] = checkAuth({ CODEX_HOME: home, OPENAI_API_KEY: "sk-secret-value" })
    expect(creds?.ok).toBe(true)
    expect(creds?.detail).toContain("OPENAI_API_KEY is set")
    expect(JSON.stringify(creds)).not.toContain("sk-secret-value")
    const [, none] = checkAuth({ CODEX_HOME: home })
    expect(none?.ok).toBe(false)
  })

  it("requires Node.js 20", () => {
    expect(checkNode("18.19.0").ok).toBe(false)
    expect(checkNode("20.20.2").ok).toBe(true)
  })
})
