// The CLI with the full command tree built for every argv (the reference the lean CLI is held to);
// the workers it starts re-enter this script, so it dispatches `__worker` as bin.ts does.
if (process.argv[2] === "__worker") {
  const { workerMain } = await import("../../dist/worker/main.js")
  void workerMain()
} else {
  const { runCli } = await import("../../dist/cli/Cli.js")
  runCli(process.argv, { fullTree: true })
}
