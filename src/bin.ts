#!/usr/bin/env node
// Entry point: the hidden worker runs without loading the CLI; everything else goes through it.
// (The built CLI, dist/cli/codex-tasks.js, makes the same choice between its bundles.)
import { routeOf } from "./route.js"

if (routeOf(process.argv.slice(2)) === "worker") {
  void import("./worker/main.js").then(({ workerMain }) => workerMain())
} else {
  void import("./Cli.js").then(({ runCli }) => runCli(process.argv))
}
