import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { guardStoreRoot } from "../../store/rootGuard.js"
import { globalOptions } from "../root.js"
import { fleetOr, globalsWith, tasksLayer } from "../runtime.js"

/** `codex-tasks mcp`: serve the task operations to an MCP client over stdio. */
export const mcp = Command.make(
  "mcp",
  {
    ...globalOptions,
    allowUnsafe: Options.boolean("allow-unsafe").pipe(
      Options.withDescription(
        'Trust the client with everything: all: true on task_stop / task_archive, and every task_start option (sandbox "danger-full-access", dangerouslyBypassApprovalsAndSandbox, config, configFile, profile, any workingDir, images or repoUrl).',
      ),
    ),
    allowDir: Options.directory("allow-dir").pipe(
      Options.repeated,
      Options.withDescription(
        "Also let clients use this directory tree for workingDir, images and a local repoUrl (repeatable; the server's working directory is always allowed).",
      ),
    ),
    allowRepo: Options.text("allow-repo").pipe(
      Options.repeated,
      Options.withDescription(
        "Let clients clone this network repository, or any below it, as repoUrl: a URL or prefix such as https://github.com/me/ or git@github.com:me/ (repeatable; without it only local repositories in the allowed directories).",
      ),
    ),
  },
  (o) =>
    Effect.gen(function* () {
      const g = yield* globalsWith(o)
      if (g.cluster !== undefined) {
        const url = g.cluster
        return yield* fleetOr(
          o,
          (fleet) =>
            fleet.fleetMcp({
              url,
              allowUnsafe: o.allowUnsafe,
              allowDirs: o.allowDir,
              allowRepos: o.allowRepo,
            }),
          Effect.void,
        )
      }
      // Refused before serving: the task service is built lazily, on the first tool call.
      yield* guardStoreRoot(g.storeRoot, {
        notify: (line) => process.stderr.write(`codex-tasks: ${line}\n`),
      })
      // Loaded on demand: the other commands do not pay for the MCP SDK.
      const { serveStdio } = yield* Effect.promise(() => import("../../mcp/server.js"))
      yield* serveStdio({
        storeRoot: g.storeRoot,
        layer: tasksLayer(g),
        allowUnsafe: o.allowUnsafe,
        allowDirs: o.allowDir,
        allowRepos: o.allowRepo,
      })
    }),
).pipe(
  Command.withDescription(
    'Serve the task operations over MCP (stdio): tools task_start, task_send, task_status, task_list, task_log, task_stop, task_archive and task://<id>/status|log resources.\n\nWithout --allow-unsafe a client cannot widen what codex may do: task_start refuses sandbox "danger-full-access", dangerouslyBypassApprovalsAndSandbox, config, configFile and profile, and keeps workingDir, images and a local repoUrl inside the server\'s working directory and the --allow-dir directories (a network repoUrl: only under an --allow-repo address); task_send refuses a task recorded with options task_start would refuse.\n\nExample (Codex config.toml):\n  [mcp_servers.codex-tasks]\n  command = "codex-tasks"\n  args = ["mcp", "--allow-dir", "/home/me/src"]',
  ),
)
