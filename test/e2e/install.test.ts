import { spawn } from "node:child_process"
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { makeCliSandbox } from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { spawnCli } from "../support/watchHelpers.js"
import { followSeesAppend, waitSeesFinish } from "../support/watchReaction.js"

// The package as users get it: `npm pack` of a clean copy of the working tree (no dist/: its
// `prepare` builds one), then `npm install -g <tarball> --ignore-scripts --prefix <temp>` (the
// quiet install the README gives; dependencies come from the npm cache, --prefer-offline, else
// from the registry). The installed `codex-tasks` has its dependencies and no devDependencies.

const repo = fileURLToPath(new URL("../..", import.meta.url))
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  readonly version: string
  readonly devDependencies: Readonly<Record<string, string>>
}

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `cmd args` (no shell) in `cwd` with `env`, collecting its output. */
const run = (cmd: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv) =>
  new Promise<Ran>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

// npm as a user runs it: none of the npm_* settings of an enclosing `npm test`; this test's Node
// first on PATH (the installed launcher starts with `#!/usr/bin/env node`).
const userEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  npm_config_update_notifier: "false",
}

/** Copies the working tree's files (tracked, and new ones not ignored: no dist/, no node_modules). */
const copyWorkingTree = async (to: string) => {
  const listed = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    repo,
    userEnv,
  )
  assert.strictEqual(listed.code, 0, listed.stderr)
  for (const file of listed.stdout.split("\0").filter((f) => f !== "")) {
    if (!existsSync(join(repo, file))) continue // deleted, not yet committed
    mkdirSync(dirname(join(to, file)), { recursive: true })
    cpSync(join(repo, file), join(to, file))
  }
  // The build's own tools (TypeScript, esbuild): the clone's installed dependencies.
  symlinkSync(realpathSync(join(repo, "node_modules")), join(to, "node_modules"))
}

let work = ""
let packed: { readonly filename: string; readonly files: ReadonlyArray<{ path: string }> }
let install: Ran
let bin = ""
let installedDir = ""

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "ct-install-"))
  const tree = join(work, "tree")
  await copyWorkingTree(tree)
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], tree, userEnv)
  assert.strictEqual(pack.code, 0, pack.stderr)
  const [result] = JSON.parse(pack.stdout) as Array<typeof packed>
  assert.isDefined(result, pack.stdout)
  packed = result as typeof packed
  const prefix = join(work, "prefix")
  install = await run(
    "npm",
    ["install", "-g", join(work, packed.filename), "--prefix", prefix, "--ignore-scripts"].concat([
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
    ]),
    work,
    userEnv,
  )
  bin = join(prefix, "bin", "codex-tasks")
  installedDir = join(prefix, "lib", "node_modules", "codex-tasks")
}, 180_000)

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true })
})

/** Runs the installed `codex-tasks` with `args` in the user's environment. */
const installed = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = userEnv) =>
  run(bin, args, work, env)

describe("npm pack", () => {
  it("packs the built CLI and library, the README, changelog and licence, and nothing else", () => {
    const paths = packed.files.map((f) => f.path)
    const stray = paths.filter(
      (p) => !/^(dist\/.+|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/.test(p),
    )
    assert.deepStrictEqual(stray, [], "no sources, tests, scripts, fixtures or configs")
    for (const entry of ["dist/bin/codex-tasks.js", "dist/index.js", "dist/testing/index.d.ts"])
      assert.include(paths, entry)
    assert.isEmpty(
      paths.filter(
        (p) => /(^|\/)(test|__snapshots__)\/|\.test\.|\.ts$/.test(p) && !/\.d\.ts$/.test(p),
      ),
      "no test files and no TypeScript sources",
    )
    // The bundles' source maps (31 MB) and the packer's V8 code caches (valid only on the
    // packer's exact Node) are not shipped: the installed CLI makes its own caches.
    assert.deepStrictEqual(
      paths.filter((p) => /^dist\/bin\/(.*\.map|\.cache\/.*)$/.test(p)),
      [],
      "no bundle source maps, no code caches",
    )
  })
})

describe("npm install -g <tarball> --ignore-scripts", () => {
  it("installs quietly: no warning, no install script", () => {
    assert.strictEqual(install.code, 0, install.stderr)
    assert.strictEqual(install.stderr, "")
    assert.match(install.stdout, /^\s*added \d+ packages in [\d.]+m?s\s*$/)
  })

  it("brings the dependencies and no devDependency; the only install scripts are the two we skip", () => {
    const modules = join(installedDir, "node_modules")
    for (const dev of Object.keys(pkg.devDependencies))
      assert.isFalse(existsSync(join(modules, dev)), `devDependency ${dev} is not installed`)
    assert.isTrue(existsSync(join(modules, "effect")))
    // Every installed package with an install-time script: only these, whose prebuilt binary for
    // this platform comes as an optional dependency (and which the CLI bundles never load).
    const withScripts: Array<string> = []
    const visit = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith(".")) continue
        if (name.startsWith("@")) {
          visit(join(dir, name))
          continue
        }
        const manifest = join(dir, name, "package.json")
        if (!existsSync(manifest)) continue
        const { name: id, scripts = {} } = JSON.parse(readFileSync(manifest, "utf8"))
        if (scripts.preinstall || scripts.install || scripts.postinstall) withScripts.push(id)
        if (existsSync(join(dir, name, "node_modules"))) visit(join(dir, name, "node_modules"))
      }
    }
    visit(modules)
    assert.sameMembers(withScripts, ["@parcel/watcher", "msgpackr-extract"])
    const platform = `${process.platform}-${process.arch}`
    assert.isTrue(
      readdirSync(join(modules, "@parcel")).some((d) => d.startsWith(`watcher-${platform}`)),
      "@parcel/watcher's prebuilt binary",
    )
    assert.isTrue(
      readdirSync(join(modules, "@msgpackr-extract")).some((d) => d.includes(platform)),
      "msgpackr-extract's prebuilt binary",
    )
    for (const bundle of ["cli.cjs", "full.cjs", "read.cjs", "worker.cjs"]) {
      const code = readFileSync(join(installedDir, "dist", "bin", bundle), "utf8")
      assert.notMatch(code, /@parcel\/watcher|msgpackr/, `${bundle} loads neither`)
    }
  })

  it("gives a working codex-tasks: --version, --help, ls of an empty store", async () => {
    const store = join(work, "empty-store")
    const version = await installed(["--version"])
    assert.strictEqual(version.code, 0, version.stderr)
    assert.strictEqual(version.stdout.trim(), pkg.version)
    const help = await installed(["--help"])
    assert.strictEqual(help.code, 0, help.stderr)
    assert.include(help.stdout, "codex-tasks")
    assert.include(help.stdout, "start")
    const ls = await installed(["ls", "--store-root", store])
    assert.strictEqual(ls.code, 0, ls.stderr)
    assert.strictEqual(ls.stderr, "")
    assert.include(ls.stdout, "No tasks found.")
  })
})

describe("the installed codex-tasks", () => {
  const { setup } = e2eWorld()
  const path = { PATH: userEnv.PATH ?? "" }

  it("runs a task with the real codex against the scripted model server", async () => {
    const { sandbox } = await setup()
    const started = await spawnCli(
      sandbox,
      ["start", "--skip-git-repo-check", "--wait", "Installed.\nREPLY:from the installed copy"],
      60_000,
      { command: [bin], env: path },
    ).result
    assert.strictEqual(started.code, 0, started.stderr)
    const status = await spawnCli(sandbox, ["ls", "--json"], 30_000, {
      command: [bin],
      env: path,
    }).result
    assert.strictEqual(status.code, 0, status.stderr)
    const [task] = JSON.parse(status.stdout) as Array<{ state: string; last_result: string }>
    assert.strictEqual(task?.state, "STOPPED")
    assert.strictEqual(task?.last_result, "from the installed copy")
  })

  it("follows with log -f and waits with status --wait by file watching", async () => {
    const sandbox = await makeCliSandbox({ url: "http://127.0.0.1:9/v1" })
    try {
      await followSeesAppend({ ...sandbox, env: { ...sandbox.env, ...path } }, [bin])
      await waitSeesFinish({ ...sandbox, env: { ...sandbox.env, ...path } }, [bin])
    } finally {
      await sandbox.dispose()
    }
  })
})
