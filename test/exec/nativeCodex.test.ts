import { spawnSync } from "node:child_process"
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { envForCodex, nativeCodex } from "../../src/exec/nativeCodex.js"
import { checkCodex } from "../../src/tasks/doctor.js"

const shim = join(process.cwd(), "node_modules/.bin/codex")
const triple = process.arch === "arm64" ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl"
const platformPackage = process.arch === "arm64" ? "codex-linux-arm64" : "codex-linux-x64"

const dirs: Array<string> = []
const scratch = () => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), "native-codex-")))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const file = (path: string, text: string, mode = 0o644) => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
  chmodSync(path, mode)
}
const script = (path: string) => file(path, "#!/bin/sh\necho native\n", 0o755)

/** A fake install: `<root>/node_modules/@openai/codex` (the launcher) and its platform package. */
const fakeInstall = (layout: "manifest" | "bin" | "old" | "missing") => {
  const root = scratch()
  const pkg = join(root, "node_modules/@openai/codex")
  file(
    join(pkg, "package.json"),
    JSON.stringify({ name: "@openai/codex", bin: { codex: "bin/codex.js" } }),
  )
  file(join(pkg, "bin/codex.js"), "#!/usr/bin/env node\n", 0o755)
  const arch = join(root, "node_modules/@openai", platformPackage, "vendor", triple)
  file(
    join(root, "node_modules/@openai", platformPackage, "package.json"),
    '{"name":"@openai/codex"}',
  )
  if (layout === "manifest") {
    file(join(arch, "codex-package.json"), '{"entrypoint":"bin/codex-real"}')
    script(join(arch, "bin/codex-real"))
  } else if (layout === "bin") script(join(arch, "bin/codex"))
  else if (layout === "old") {
    script(join(arch, "codex/codex"))
    mkdirSync(join(arch, "path"))
  }
  return { root, pkg, arch, launcher: join(pkg, "bin/codex.js") }
}

describe("nativeCodex", () => {
  it("finds the platform binary behind the project's codex launcher, and it runs", () => {
    const launch = nativeCodex(shim)
    const pkg = realpathSync(join(process.cwd(), "node_modules/@openai/codex"))
    expect(launch.bin).toBe(
      realpathSync(
        join(process.cwd(), "node_modules/@openai", platformPackage, "vendor", triple, "bin/codex"),
      ),
    )
    expect(launch.launcher).toBe(join(pkg, "bin/codex.js"))
    expect(launch.env).toEqual({ CODEX_MANAGED_PACKAGE_ROOT: pkg, CODEX_MANAGED_BY_NPM: "1" })
    const viaShim = spawnSync(shim, ["--version"], { encoding: "utf8" }).stdout
    expect(spawnSync(launch.bin, ["--version"], { encoding: "utf8" }).stdout).toBe(viaShim)
  })

  it("looks a bare name up on PATH, through symlinks, as a shell would", () => {
    const bin = scratch()
    symlinkSync(shim, join(bin, "codex"))
    expect(nativeCodex("codex", { PATH: `/nonexistent:${bin}` }).bin).toBe(nativeCodex(shim).bin)
  })

  it("knows the layouts of the launcher's versions: manifest entry point, bin/, codex/ + path/", () => {
    const manifest = fakeInstall("manifest")
    expect(nativeCodex(manifest.launcher).bin).toBe(join(manifest.arch, "bin/codex-real"))
    const bin = fakeInstall("bin")
    expect(nativeCodex(bin.launcher).bin).toBe(join(bin.arch, "bin/codex"))
    const old = fakeInstall("old")
    const launch = nativeCodex(old.launcher, { PATH: "/usr/bin" })
    expect(launch.bin).toBe(join(old.arch, "codex/codex"))
    expect(launch.env.PATH).toBe(`${join(old.arch, "path")}:/usr/bin`)
  })

  it("runs what was given when it is not the launcher or the binary is missing", () => {
    const missing = fakeInstall("missing")
    expect(nativeCodex(missing.launcher)).toEqual({ bin: missing.launcher, env: {} })
    const other = join(scratch(), "codex")
    script(other)
    expect(nativeCodex(other)).toEqual({ bin: other, env: {} })
    expect(nativeCodex("/nonexistent/codex")).toEqual({ bin: "/nonexistent/codex", env: {} })
    expect(nativeCodex("codex", { PATH: "/nonexistent" })).toEqual({ bin: "codex", env: {} })
  })

  it("tells pnpm installs apart, as the launcher does", () => {
    const install = fakeInstall("bin")
    file(join(install.root, "node_modules/.modules.yaml"), "")
    expect(nativeCodex(install.launcher).env.CODEX_MANAGED_BY_PNPM).toBe("1")
  })
})

describe("envForCodex", () => {
  it("gives the native binary the launcher's variables, replacing another manager's", () => {
    const bin = nativeCodex(shim).bin
    const env = envForCodex(bin, { PATH: "/usr/bin", CODEX_MANAGED_BY_BUN: "1" })
    expect(env).toEqual({
      PATH: "/usr/bin",
      CODEX_MANAGED_PACKAGE_ROOT: realpathSync(join(process.cwd(), "node_modules/@openai/codex")),
      CODEX_MANAGED_BY_NPM: "1",
    })
  })

  it("leaves the environment alone for anything else", () => {
    const other = join(scratch(), "codex")
    script(other)
    expect(envForCodex(other, { PATH: "/usr/bin" })).toEqual({ PATH: "/usr/bin" })
    expect(envForCodex(shim, { PATH: "/usr/bin" })).toEqual({ PATH: "/usr/bin" })
  })
})

describe("doctor on the codex it runs", () => {
  it("says the native binary runs instead of the npm shim", async () => {
    expect((await Effect.runPromise(checkCodex(shim)))[0]?.detail).toContain(
      `npm shim; codex-tasks runs its native binary ${nativeCodex(shim).bin}`,
    )
    const missing = fakeInstall("missing")
    expect((await Effect.runPromise(checkCodex(missing.launcher)))[0]?.detail).toContain(
      "it runs as given",
    )
  })
})
