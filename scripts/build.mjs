#!/usr/bin/env node
// Build: the library (tsc → dist/, with declarations) and the CLI (esbuild → dist/cli/): one CJS
// bundle started by a small launcher that uses V8's code cache (see scripts/cli-loader.cjs). The
// cache is primed here by running one read-only command.
import { spawnSync } from "node:child_process"
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"

rmSync("dist", { recursive: true, force: true })
const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" })
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
