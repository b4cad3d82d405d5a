import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { resolveCodexBin } from "../../src/exec/codexBin.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const tree = () => {
  const base = mkdtempSync(join(tmpdir(), "ct-codexbin-"))
  dirs.push(base)
  for (const dir of ["bin", "rel", "cli"]) mkdirSync(join(base, dir))
  for (const file of ["bin/codex", "rel/codex", "cli/codex"]) {
    writeFileSync(join(base, file), "#!/bin/sh\n")
    chmodSync(join(base, file), 0o755)
  }
  writeFileSync(join(base, "bin", "not-executable"), "")
  return base
}

describe("resolveCodexBin", () => {
  it("takes a path with a slash relative to the CLI's directory", () => {
    const base = tree()
    const cwd = join(base, "cli")
    assert.deepStrictEqual(resolveCodexBin("./codex", { cwd, env: {} }), {
      found: true,
      path: join(cwd, "codex"),
    })
    assert.deepStrictEqual(resolveCodexBin("../bin/none", { cwd, env: {} }), {
      found: false,
      path: join(base, "bin", "none"),
      detail: `${join(base, "bin", "none")} is not an executable file`,
    })
  })

  it("looks a bare name up in PATH's absolute entries, in order, skipping relative ones", () => {
    const base = tree()
    const env = { PATH: ["rel", "", join(base, "bin"), join(base, "cli")].join(":") }
    assert.deepStrictEqual(resolveCodexBin("codex", { cwd: base, env }), {
      found: true,
      path: join(base, "bin", "codex"),
    })
    assert.deepStrictEqual(resolveCodexBin("codex", { cwd: base, env: { PATH: "rel:." } }), {
      found: false,
      path: undefined,
      detail: "codex is not on PATH",
    })
    assert.isFalse(resolveCodexBin("not-executable", { cwd: base, env }).found)
  })
})
