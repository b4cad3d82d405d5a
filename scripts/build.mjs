#!/usr/bin/env node
// Build: the library (tsc → dist/, with declarations) and the CLI bundle (esbuild → dist/cli/).
// The CLI is bundled with code splitting so each command loads only what it needs (start-up cost
// is most of a read-only command's time).
import { spawnSync } from "node:child_process"
import { chmodSync, rmSync } from "node:fs"
import { build } from "esbuild"

rmSync("dist", { recursive: true, force: true })
const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)

await build({
  entryPoints: { "codex-tasks": "src/bin.ts" },
  outdir: "dist/cli",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
})
chmodSync("dist/cli/codex-tasks.js", 0o755)
