#!/usr/bin/env node
// Entry point: the hidden worker runs without loading the CLI; everything else goes through it.
if (process.argv[2] === "__worker") {
  void import("./worker/main.js").then(({ workerMain }) => workerMain())
} else {
  void import("./Cli.js").then(({ runCli }) => runCli(process.argv))
}
