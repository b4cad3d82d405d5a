#!/usr/bin/env node
// codex-tasks launcher (bundled by scripts/build.mjs into dist/bin/codex-tasks.js): picks the
// bundle argv needs (src/cli/route.ts) and runs it through V8's code cache, so start-up skips most
// parsing and compiling (start-up is most of a read-only command's time):
//   worker.cjs  `__worker`: the detached worker (no CLI, no MCP); a `start` spawns it first thing
//   read.cjs    `ls` and `status` in their everyday forms (src/cli/readArgs.ts): no @effect/cli at all
//   cli.cjs     any one command but `mcp` and `serve` (no MCP SDK, no zod, no HTTP server)
//   full.cjs    `mcp`, `serve`, and the whole command tree (--help, completions, unknown commands)
//   cluster.cjs `runner`, and any other command given --cluster or CODEX_TASKS_CLUSTER (the fleet)
//   fleet-mcp.cjs `mcp` and `serve` given --cluster: the fleet with its servers (mcp/fleetServer.ts,
//               serve/fleetMain.ts)
// Each cache lives next to the bundles, or in the temp dir when that is not writable; a cache
// that V8 rejects (other Node version, other bundle) is simply rebuilt.
"use strict"
const fs = require("node:fs")
const os = require("node:os")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")
const { routeOf } = require("../src/cli/route.ts")
const { readArgs } = require("../src/cli/readArgs.ts")
const { prewarmWorker } = require("../src/launcher/prewarm.ts")

const route = routeOf(process.argv.slice(2))
// A command on a fleet (`runner`, `--cluster`, CODEX_TASKS_CLUSTER) runs from cluster.cjs, the
// only bundle with @effect/cluster and the Postgres client.
const args = process.argv.slice(2)
const fleet =
  route === "runner" ||
  (process.env.CODEX_TASKS_CLUSTER ?? "") !== "" ||
  args.some((a) => a === "--cluster" || a.startsWith("--cluster="))
// A start's worker loads while the CLI does (src/launcher/prewarm.ts); CODEX_TASKS_PREWARM=0: not.
// A fleet start runs its worker on the runner's machine: nothing to prewarm here.
if (route === "start" && !fleet && process.env.CODEX_TASKS_PREWARM !== "0") {
  prewarmWorker(process.argv.slice(2))
}
// readArgs accepts only everyday `ls` and `status` argv (anything else: undefined).
const name =
  route === "worker"
    ? "worker"
    : (route === "mcp" || route === "serve") && fleet
      ? "fleet-mcp"
      : route === "mcp" || route === "serve" || route === "tree"
        ? "full"
        : fleet
          ? "cluster"
          : readArgs(args) !== undefined
            ? "read"
            : "cli"
const bundle = path.join(__dirname, `${name}.cjs`)
const cacheName = `${name}-${process.version}-${process.arch}.v8cache`
const candidates = [
  path.join(__dirname, ".cache", cacheName),
  path.join(os.tmpdir(), `codex-tasks-${process.getuid ? process.getuid() : "user"}`, cacheName),
]
// A code cache is trusted input: only use one from a real directory that belongs to us (or to
// root, for a global install) and that nobody else can write to.
const trusted = (dir) => {
  try {
    const st = fs.lstatSync(dir)
    const uid = process.getuid ? process.getuid() : st.uid
    return st.isDirectory() && (st.uid === uid || st.uid === 0) && (st.mode & 0o022) === 0
  } catch {
    return false
  }
}
let cachedData
for (const file of candidates) {
  if (!trusted(path.dirname(file))) continue
  try {
    cachedData = fs.readFileSync(file)
    break
  } catch {}
}
const source = fs.readFileSync(bundle, "utf8").replace(/^#!.*/, "")
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
if (cachedData === undefined || script.cachedDataRejected) {
  // Written at exit, so the functions this run compiled are in it too.
  process.once("exit", () => {
    const data = script.createCachedData()
    for (const file of candidates) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
        if (!trusted(path.dirname(file))) continue
        const tmp = `${file}.${process.pid}.tmp`
        fs.writeFileSync(tmp, data, { mode: 0o600 })
        fs.renameSync(tmp, file)
        return
      } catch {}
    }
  })
}
const mod = new Module(bundle, module)
mod.filename = bundle
mod.paths = Module._nodeModulePaths(__dirname)
script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, __dirname)
