// The CLI with the full command tree built for every argv (the reference the lean CLI is held to),
// bundled by test/support/fullTree.ts; the workers it starts re-enter it, so it dispatches
// `__worker` as bin.ts does.
import { runCli } from "../../src/cli/Cli.js"
import { workerMain } from "../../src/worker/main.js"

if (process.argv[2] === "__worker") void workerMain()
else runCli(process.argv, { fullTree: true })
