#!/usr/bin/env node
// Build: the library (tsc → dist/, with declarations) and the CLI (esbuild → dist/cli/): one CJS
// bundle started by a small launcher that uses V8's code cache (see scripts/cli-loader.cjs). The
// cache is primed here by running one read-only command.
import { spawnSync } from "node:child_process"
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
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
  if (existsSync("dist/cli/codex-tasks.js")) {
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

await build({
  entryPoints: ["src/bin.ts"],
  outfile: "dist/cli/bundle.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
})
// dist/cli is CommonJS (the package is ESM): the launcher keeps the `codex-tasks.js` name.
writeFileSync("dist/cli/package.json", '{ "type": "commonjs" }\n')
copyFileSync("scripts/cli-loader.cjs", "dist/cli/codex-tasks.js")
chmodSync("dist/cli/codex-tasks.js", 0o755)

const store = mkdtempSync(join(tmpdir(), "codex-tasks-build-"))
spawnSync(process.execPath, ["dist/cli/codex-tasks.js", "ls", "--store-root", store], {
  stdio: "ignore",
})
rmSync(store, { recursive: true, force: true })
