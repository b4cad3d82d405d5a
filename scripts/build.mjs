#!/usr/bin/env node
// Build: the library (tsc → dist/, with declarations) and the CLI (esbuild → dist/bin/): minified
// CJS bundles started by a small launcher that picks one by argv and runs it through V8's code
// cache (see scripts/cli-loader.cjs). The caches are primed here by running each bundle once.
import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"

// `npm install -g .` runs this script (`prepare`) on a packed copy without devDependencies: the
// packed dist/ is what gets installed then, so there is nothing to build.
const require = createRequire(import.meta.url)
let tscPath
try {
  tscPath = require.resolve("typescript/bin/tsc")
} catch {
  if (existsSync("dist/bin/codex-tasks.js")) {
    console.log("build: TypeScript is not installed here; using the prebuilt dist/")
    process.exit(0)
  }
  console.error("build: TypeScript is not installed: run `npm ci` first")
  process.exit(1)
}
const { build } = await import("esbuild")

rmSync("dist", { recursive: true, force: true })
const tsc = spawnSync(process.execPath, [tscPath, "-p", "tsconfig.build.json"], {
  stdio: "inherit",
})
if (tsc.status !== 0) process.exit(tsc.status ?? 1)

// Six bundles, so that each process loads only what it runs (scripts/cli-loader.cjs picks one):
// the worker; the fast read path (everyday `ls` and `status`, no @effect/cli); the CLI without
// the servers and the fleet (every other command, each built only when invoked); the full CLI
// (`mcp`, `serve`, and --help, completions, unknown commands: the whole tree); the fleet CLI
// (`runner`, and any command given --cluster or CODEX_TASKS_CLUSTER); the fleet's servers
// (`mcp` and `serve` given --cluster).
const entry = (code) => ({ contents: code, resolveDir: ".", loader: "ts", sourcefile: "entry.ts" })
// Stubs keep code out of a bundle: each way in (a dynamic import) throws instead.
// - servers: the MCP server and `serve`'s server run from full.cjs only;
// - cluster: the fleet (src/cluster/: @effect/cluster, sql-pg, pg) runs from cluster.cjs only,
//   which the launcher picks for `runner` and any command given --cluster or
//   CODEX_TASKS_CLUSTER: local commands load none of it (cli/fleet.ts, cluster/runner.ts).
// - the fleet's servers (mcp/fleetServer.ts, serve/fleetMain.ts) run from fleet-mcp.cjs only
//   (`mcp --cluster`, `serve --cluster`): the fleet bundle with them, but without the local
//   servers' entry points (the dashboard's server code comes in through serve/fleetMain.ts).
const stubs = ({ servers, cluster, fleetMcp = false }) => ({
  name: `stubs${servers ? "-servers" : ""}${cluster ? "-cluster" : ""}${fleetMcp ? "-fleet-mcp" : ""}`,
  setup(b) {
    if (servers) {
      const filter = fleetMcp
        ? /\/(mcp\/server|serve\/main)\.js$/
        : /\/(mcp\/server|mcp\/fleetServer|serve\/main|serve\/fleetMain)\.js$/
      b.onResolve({ filter }, () => ({
        path: "servers",
        namespace: "stub",
      }))
    }
    if (cluster) {
      b.onResolve({ filter: /^\.{1,2}\/(fleet|(\.\.\/)*cluster\/runner)\.js$/ }, () => ({
        path: "cluster",
        namespace: "stub",
      }))
    }
    b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({
      contents:
        args.path === "cluster"
          ? 'throw new Error("the fleet runs from cluster.cjs (scripts/cli-loader.cjs)")'
          : 'throw new Error("the servers (mcp, serve) run from full.cjs (scripts/cli-loader.cjs)")',
      loader: "js",
    }))
  },
})
// The worker loads the fleet's run slots (src/worker/fleetSlotLocks.ts, with the Postgres client)
// from their own bundle, and only for a task with a fleet-wide limit: `require` at that moment.
const fleetSlotsApart = {
  name: "fleet-slots-apart",
  setup(b) {
    b.onResolve({ filter: /\/fleetSlotLocks\.js$/ }, () => ({
      path: "./fleet-slots.cjs",
      external: true,
    }))
  },
}
const noServers = stubs({ servers: true, cluster: false })
const noCluster = stubs({ servers: false, cluster: true })
const noServersNoCluster = stubs({ servers: true, cluster: true })
const fleetMcpOnly = stubs({ servers: true, cluster: false, fleetMcp: true })
const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minify: true,
  // Minified names are fine: nothing we print or store comes from a function's or class's name
  // (tags and identifiers are explicit strings), and keeping them costs ~10 ms of start-up
  // (a `__name` call per function and class).
  keepNames: false,
  sourcemap: "linked",
  logLevel: "warning",
}
const cliMain = 'import { runCli } from "./src/cli/Cli.ts"\nrunCli(process.argv)\n'
await Promise.all([
  build({
    ...common,
    stdin: entry('import { workerMain } from "./src/worker/main.ts"\nvoid workerMain()\n'),
    outfile: "dist/bin/worker.cjs",
    plugins: [noCluster, fleetSlotsApart],
    // The bundle runs in a vm.Script (scripts/cli-loader.cjs): import() of another file cannot.
    supported: { "dynamic-import": false },
  }),
  build({
    ...common,
    entryPoints: ["src/worker/fleetSlotLocks.ts"],
    outfile: "dist/bin/fleet-slots.cjs",
  }),
  build({
    ...common,
    stdin: entry(
      'import { readArgs } from "./src/cli/readArgs.ts"\nimport { runFastRead } from "./src/cli/fastRead.ts"\nconst args = readArgs(process.argv.slice(2))\nif (args === undefined) throw new Error("read.cjs runs only what src/cli/readArgs.ts accepts")\nrunFastRead(args)\n',
    ),
    outfile: "dist/bin/read.cjs",
    plugins: [noCluster],
  }),
  build({
    ...common,
    stdin: entry(cliMain),
    outfile: "dist/bin/cli.cjs",
    plugins: [noServersNoCluster],
  }),
  build({ ...common, stdin: entry(cliMain), outfile: "dist/bin/full.cjs", plugins: [noCluster] }),
  build({
    ...common,
    stdin: entry(cliMain),
    outfile: "dist/bin/cluster.cjs",
    plugins: [noServers],
  }),
  build({
    ...common,
    stdin: entry(cliMain),
    outfile: "dist/bin/fleet-mcp.cjs",
    plugins: [fleetMcpOnly],
  }),
  // The launcher: plain, small, with the argv routing of src/cli/route.ts.
  build({
    ...common,
    minify: false,
    sourcemap: false,
    entryPoints: ["scripts/cli-loader.cjs"],
    outfile: "dist/bin/codex-tasks.js",
  }),
])
// dist/bin is CommonJS (the package is ESM): the launcher keeps the `codex-tasks.js` name.
writeFileSync("dist/bin/package.json", '{ "type": "commonjs" }\n')
chmodSync("dist/bin/codex-tasks.js", 0o755)

// Prime each bundle's code cache with a run that loads it: ls (read), log of no task (cli), --help
// (full), and a worker without a request (it only starts up).
const store = mkdtempSync(join(tmpdir(), "codex-tasks-build-"))
const primers = [["ls", "--store-root", store], ["log", "--store-root", store, "none"], ["--help"]]
for (const args of [...primers, ["__worker"]]) {
  spawnSync(process.execPath, ["dist/bin/codex-tasks.js", ...args], { stdio: "ignore" })
}
rmSync(store, { recursive: true, force: true })
