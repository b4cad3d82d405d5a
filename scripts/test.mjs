#!/usr/bin/env node
// The whole check, as `npm test` runs it: typecheck, lint, build, unit and end-to-end tests on
// this Node, then the end-to-end tests again on Node 22 LTS (a pinned release from the npm
// registry, scripts/node-dist.mjs; skipped where there is none for the platform, or with
// CODEX_TASKS_TEST_NODE22=0). Ends with one plain line `N passed, M failed` counting both runs
// (plus any failed check step); above it, the tests that failed and those that passed only on
// their retry (the e2e project retries a failed test once), by name.
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { nodeBinary, PINNED } from "./node-dist.mjs"

const report = ".vitest-report.json"
const steps = [
  ["typecheck", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]],
  ["lint", "npx", ["biome", "check", "."]],
  ["build", "npm", ["run", "--silent", "build"]],
]
let failedSteps = 0
const failedStepNames = []
let buildFailed = false
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n== ${name}\n`)
  const r = spawnSync(cmd, args, { stdio: "inherit" })
  if (r.status !== 0) {
    failedSteps++
    failedStepNames.push(name)
    if (name === "build") buildFailed = true
    process.stdout.write(`== ${name} FAILED\n`)
  }
}

let passed = 0
let failed = 0
/** The names of failed tests and checks, repeated just above the summary line (CI shows a tail). */
const failures = []
/** Tests that passed only on their retry (the e2e project retries once): flakes to fix. */
const flaky = []
/** Runs vitest with `node` (PATH led by its directory, for the codex shim's `env node`). */
const vitest = (label, node, args) => {
  process.stdout.write(`\n== ${label}\n`)
  rmSync(report, { force: true })
  const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ""}` }
  const r = spawnSync(
    node,
    [
      join("node_modules", "vitest", "vitest.mjs"),
      "run",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
      ...args,
    ],
    { stdio: "inherit", env },
  )
  let p = 0
  let f = 0
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, "utf8"))
    p = json.numPassedTests ?? 0
    f = (json.numFailedTests ?? 0) + (json.numRuntimeErrorTestSuites ?? 0)
    // A suite that failed to load reports no tests: count it.
    for (const suite of json.testResults ?? []) {
      const file = String(suite.name ?? "").replace(`${process.cwd()}/`, "")
      if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) {
        f++
        failures.push(
          `${label}: ${file}: ${String(suite.message ?? "failed to load").split("\n")[0]}`,
        )
      }
      for (const t of suite.assertionResults ?? []) {
        if (t.status === "passed" && (t.failureMessages ?? []).length > 0) {
          const why = String(t.failureMessages[0]).split("\n")[0].slice(0, 300)
          flaky.push(`${label}: ${file} > ${t.fullName ?? t.title}: ${why}`)
        }
        if (t.status !== "failed") continue
        const why = String((t.failureMessages ?? [])[0] ?? "")
          .split("\n")[0]
          .slice(0, 300)
        failures.push(`${label}: ${file} > ${t.fullName ?? t.title}: ${why}`)
      }
    }
  }
  if (r.status !== 0 && f === 0) {
    f = 1
    failures.push(`${label}: vitest exited ${r.status ?? r.signal} with no failed test`)
  }
  if (p === 0 && f === 0) {
    f = 1 // ran no test: that is a failure
    failures.push(`${label}: ran no test`)
  }
  process.stdout.write(`== ${label}: ${p} passed, ${f} failed\n`)
  passed += p
  failed += f
}
// Tests still run after a typecheck or lint failure (their results matter too), not without a build.
if (!buildFailed) {
  const extra = process.argv.slice(2)
  vitest(`tests (unit + e2e), Node ${process.version}`, process.execPath, extra)
  if (process.env.CODEX_TASKS_TEST_NODE22 !== "0") {
    let node22
    let why = "no pinned build for this platform"
    try {
      node22 = nodeBinary(PINNED[22])
    } catch (e) {
      why = e.message
      failed++
      failures.push(`e2e on Node 22 not run: ${why}`)
    }
    if (node22 === undefined) process.stdout.write(`\n== e2e on Node 22 not run: ${why}\n`)
    else vitest(`e2e tests, Node ${PINNED[22]}`, node22, ["--project", "e2e", ...extra])
  }
}
// The real-process crash sweep's CI subset (scripts/sweep.mjs --quick): one check, failed on any
// violation.
if (!buildFailed && process.env.CODEX_TASKS_TEST_SWEEP !== "0") {
  process.stdout.write("\n== crash sweep (npm run sweep -- --quick)\n")
  const r = spawnSync(process.execPath, ["scripts/sweep.mjs", "--quick"], { stdio: "inherit" })
  if (r.status === 0) passed++
  else {
    failed++
    failures.push("crash sweep: violations or error (see above)")
  }
}
failed += failedSteps
for (const name of failedStepNames) failures.push(`${name} FAILED (see above)`)
if (flaky.length > 0) {
  process.stdout.write(
    `\n== passed only on retry (flaky, to fix):\n${flaky.map((l) => `  ${l}`).join("\n")}\n`,
  )
}
if (failures.length > 0)
  process.stdout.write(`\n== failed:\n${failures.map((l) => `  ${l}`).join("\n")}\n`)
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(failed === 0 ? 0 : 1)
