#!/usr/bin/env node
// The whole check, as `npm test` runs it: typecheck, lint, build, unit and end-to-end tests.
// Ends with one plain line `N passed, M failed` (tests, plus any failed check step).
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"

const report = ".vitest-report.json"
const steps = [
  ["typecheck", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]],
  ["lint", "npx", ["biome", "check", "."]],
  ["build", "npm", ["run", "--silent", "build"]],
]
let failedSteps = 0
let buildFailed = false
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n== ${name}\n`)
  const r = spawnSync(cmd, args, { stdio: "inherit" })
  if (r.status !== 0) {
    failedSteps++
    if (name === "build") buildFailed = true
    process.stdout.write(`== ${name} FAILED\n`)
  }
}

let passed = 0
let failed = 0
// Tests still run after a typecheck or lint failure (their results matter too), not without a build.
if (!buildFailed) {
  process.stdout.write("\n== tests (unit + e2e)\n")
  rmSync(report, { force: true })
  const extra = process.argv.slice(2)
  const r = spawnSync(
    "npx",
    [
      "vitest",
      "run",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
      ...extra,
    ],
    { stdio: "inherit" },
  )
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, "utf8"))
    passed = json.numPassedTests ?? 0
    failed = (json.numFailedTests ?? 0) + (json.numRuntimeErrorTestSuites ?? 0)
    // A suite that failed to load reports no tests: count it.
    for (const suite of json.testResults ?? []) {
      if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) failed++
    }
  }
  if (r.status !== 0 && failed === 0) failed = 1
  if (passed === 0 && failed === 0) failed = 1 // ran no test: that is a failure
}
failed += failedSteps
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(failed === 0 ? 0 : 1)
