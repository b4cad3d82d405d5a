#!/usr/bin/env node
// Entry point: the hidden worker runs without loading the CLI, and so do `ls` and `status` in their
// everyday forms (readArgs.ts); everything else goes through the CLI. (The built CLI,
// dist/bin/codex-tasks.js, makes the same choices between its bundles.)
import { readArgs } from "./readArgs.js"
import { routeOf } from "./route.js"

const args = process.argv.slice(2)
const fast = readArgs(args)
if (routeOf(args) === "worker") {
  void import("../worker/main.js").then(({ workerMain }) => workerMain())
} else if (fast !== undefined) {
  void import("./fastRead.js").then(({ runFastRead }) => runFastRead(fast))
} else {
  void import("./Cli.js").then(({ runCli }) => runCli(process.argv))
}
