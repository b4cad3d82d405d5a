#!/usr/bin/env node
// Entry point: the hidden worker runs without loading the CLI; everything else goes through it.
if (process.argv[2] === "__worker") {
  const { workerMain } = await import("./worker/main.js")
  await workerMain()
} else {
  const { runCli } = await import("./Cli.js")
  runCli(process.argv)
}
