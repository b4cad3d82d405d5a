/**
 * The native codex binary behind the npm package's Node launcher (`@openai/codex/bin/codex.js`).
 * The launcher costs a Node start (~100 ms, ~19 MB) per run only to exec the platform binary;
 * we find that binary the way the launcher does and run it directly, with the environment the
 * launcher would give it. Anything that is not the launcher, or a launcher whose binary cannot
 * be found, is run as given.
 */
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { basename, delimiter, dirname, isAbsolute, join, normalize, resolve, sep } from "node:path"

/** How a codex given by the user is run. */
export interface CodexLaunch {
  /** The executable we spawn. */
  readonly bin: string
  /** The npm launcher it stands for, when `bin` is the platform binary behind one. */
  readonly launcher?: string | undefined
  /** Variables the launcher would have set (or `PATH` it would have extended) for the binary. */
  readonly env: Readonly<Record<string, string>>
}

// The launcher's table (`PLATFORM_PACKAGE_BY_TARGET` in bin/codex.js).
const TARGETS: Readonly<Record<string, readonly [string, string]>> = {
  "linux x64": ["x86_64-unknown-linux-musl", "@openai/codex-linux-x64"],
  "android x64": ["x86_64-unknown-linux-musl", "@openai/codex-linux-x64"],
  "linux arm64": ["aarch64-unknown-linux-musl", "@openai/codex-linux-arm64"],
  "android arm64": ["aarch64-unknown-linux-musl", "@openai/codex-linux-arm64"],
  "darwin x64": ["x86_64-apple-darwin", "@openai/codex-darwin-x64"],
  "darwin arm64": ["aarch64-apple-darwin", "@openai/codex-darwin-arm64"],
}
const MANAGERS = ["NPM", "BUN", "PNPM", "VITE_PLUS"].map((m) => `CODEX_MANAGED_BY_${m}`)

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const readJson = (path: string): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(readFileSync(path, "utf8"))
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Where `given` is: a path as is, a bare name looked up on `PATH` (undefined: not found). */
export const locate = (given: string, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  if (given.includes("/")) return isExecutable(given) ? resolve(given) : undefined
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue
    const candidate = join(dir, given)
    if (isExecutable(candidate)) return resolve(candidate)
  }
  return undefined
}

/** The root of the `@openai/codex` package whose launcher `file` (a real path) is, if it is one. */
const launcherRoot = (file: string): string | undefined => {
  if (basename(file) !== "codex.js" || basename(dirname(file)) !== "bin") return undefined
  const root = dirname(dirname(file))
  const pkg = readJson(join(root, "package.json"))
  const bin = pkg?.bin as Record<string, unknown> | undefined
  return pkg?.name === "@openai/codex" && bin?.codex === "bin/codex.js" ? root : undefined
}

// The binary inside `vendor/<triple>/`: the entry point its manifest names (codex ≥ 0.16x),
// `bin/codex`, or `codex/codex` (older packages, which also put `path/` on PATH).
const binaryIn = (archRoot: string): { bin: string; pathDir?: string } | undefined => {
  const entry = readJson(join(archRoot, "codex-package.json"))?.entrypoint
  if (typeof entry === "string" && !isAbsolute(entry) && !normalize(entry).startsWith("..")) {
    if (isExecutable(join(archRoot, entry))) return { bin: join(archRoot, entry) }
  }
  if (isExecutable(join(archRoot, "bin", "codex"))) return { bin: join(archRoot, "bin", "codex") }
  if (isExecutable(join(archRoot, "codex", "codex"))) {
    const pathDir = join(archRoot, "path")
    return { bin: join(archRoot, "codex", "codex"), ...(existsSync(pathDir) ? { pathDir } : {}) }
  }
  return undefined
}

// Which package manager installed the launcher, as the launcher guesses it (for codex's update
// hints): pnpm by its `.modules.yaml`, bun by its global directory, npm otherwise.
const managerOf = (root: string, env: NodeJS.ProcessEnv): string => {
  for (let dir = dirname(root); dir !== dirname(dir); dir = dirname(dir)) {
    const modules = basename(dir) === "node_modules" ? dir : join(dir, "node_modules")
    if (existsSync(join(modules, ".modules.yaml"))) {
      try {
        if (realpathSync(join(modules, "@openai", "codex")) === root) return "CODEX_MANAGED_BY_PNPM"
      } catch {}
    }
  }
  const bun =
    /\bbun\//.test(env.npm_config_user_agent ?? "") || root.includes(".bun/install/global")
  return bun ? "CODEX_MANAGED_BY_BUN" : "CODEX_MANAGED_BY_NPM"
}

const TRIPLE = TARGETS[`${process.platform} ${process.arch}`]

/** The platform binary of the launcher package at `root`, and the environment it gets. */
const launchOf = (
  root: string,
  launcher: string,
  env: NodeJS.ProcessEnv,
): CodexLaunch | undefined => {
  if (TRIPLE === undefined) return undefined
  const [triple, platformPackage] = TRIPLE
  let vendor = join(root, "vendor")
  try {
    const pkg = createRequire(launcher).resolve(`${platformPackage}/package.json`)
    vendor = join(dirname(pkg), "vendor")
  } catch {}
  const found = binaryIn(join(vendor, triple))
  if (found === undefined) return undefined
  const extra: Record<string, string> = { CODEX_MANAGED_PACKAGE_ROOT: root }
  extra[managerOf(root, env)] = "1"
  if (found.pathDir !== undefined) {
    extra.PATH = [found.pathDir, env.PATH]
      .filter((p) => p !== undefined && p !== "")
      .join(delimiter)
  }
  return { bin: found.bin, launcher, env: extra }
}

/**
 * How to run `given` (a path or a name on PATH): the platform binary when it is the npm
 * launcher of `@openai/codex` and that binary is installed, else `given` itself (always under
 * `CODEX_TASKS_NATIVE_CODEX=0`).
 */
export const nativeCodex = (given: string, env: NodeJS.ProcessEnv = process.env): CodexLaunch => {
  if (env.CODEX_TASKS_NATIVE_CODEX === "0" || process.platform === "win32") {
    return { bin: given, env: {} }
  }
  const path = locate(given, env)
  if (path === undefined) return { bin: given, env: {} }
  let real: string
  try {
    real = realpathSync(path)
  } catch {
    return { bin: given, env: {} }
  }
  const root = launcherRoot(real)
  return (root === undefined ? undefined : launchOf(root, real, env)) ?? { bin: given, env: {} }
}

/**
 * The environment for spawning `bin`: `env` plus what the npm launcher would have set when
 * `bin` is a platform binary of an installed `@openai/codex` (as `nativeCodex` resolves it).
 */
export const envForCodex = (
  bin: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv => {
  const real = (() => {
    try {
      return realpathSync(bin)
    } catch {
      return undefined
    }
  })()
  const at = real?.lastIndexOf(`${sep}vendor${sep}`) ?? -1
  if (real === undefined || at < 0 || TRIPLE === undefined) return env
  // vendor/ sits in the launcher package itself, or in its platform package beside (or under) it.
  const pkgDir = real.slice(0, at)
  const candidates = [pkgDir, join(dirname(pkgDir), "codex"), resolve(pkgDir, "..", "..", "..")]
  for (const root of candidates) {
    const launcher = join(root, "bin", "codex.js")
    if (!existsSync(launcher) || launcherRoot(launcher) === undefined) continue
    const launch = launchOf(root, launcher, env)
    if (launch === undefined || realpathSync(launch.bin) !== real) continue
    const out: NodeJS.ProcessEnv = { ...env }
    for (const m of MANAGERS) delete out[m]
    return { ...out, ...launch.env }
  }
  return env
}
