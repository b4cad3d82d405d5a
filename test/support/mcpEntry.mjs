#!/usr/bin/env node
// `codex-tasks mcp` from the tsc build (dist/), for the MCP e2e tests while src/cli/Cli.ts does not
// list the command yet; it re-enters itself as the worker, like the real entry point.
if (process.argv[2] === "__worker") {
  const { workerMain } = await import("../../dist/worker/main.js")
  await workerMain()
} else {
  const { Command } = await import("@effect/cli")
  const { NodeContext, NodeRuntime } = await import("@effect/platform-node")
  const { Effect } = await import("effect")
  const { root } = await import("../../dist/cli/root.js")
  const { mcp } = await import("../../dist/cli/commands/mcp.js")
  const cli = Command.run(root.pipe(Command.withSubcommands([mcp])), {
    name: "codex-tasks",
    version: "test",
  })
  cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
}
