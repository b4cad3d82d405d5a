import { realpathSync } from "node:fs"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect, Layer, ManagedRuntime } from "effect"
import { checkAllowRepos, resolveAllowDirs } from "../gate/confine.js"
import { ensurePrivateDir } from "../store/atomic.js"
import { setFaultRole } from "../store/faults.js"
import type { TaskStore } from "../store/TaskStore.js"
import type { Tasks } from "../tasks/Tasks.js"
import { VERSION } from "../version.js"
import { registerApprovalTools } from "./approvalTools.js"
import type { McpContext } from "./bridge.js"
import { registerDiffTool } from "./diffTool.js"
import { registerResources, resourceProbes } from "./resources.js"
import { keepStdoutForProtocol, serveOverStdio } from "./stdio.js"
import { registerControlTools } from "./stopArchiveTools.js"
import { registerLogTool } from "./taskLog.js"
import { registerTaskTools } from "./tools.js"
import { makeStoreWatcher, type StoreWatcher } from "./watcher.js"

const INSTRUCTIONS = `codex-tasks runs Codex agent sessions ("tasks") in the background.
task_start starts one and returns its id at once; follow it with task_status or task_log
(waitSeconds waits for new events) or subscribe to task://<id>/status; task_send adds prompts;
task_diff shows what it changed (task_start worktree: {} gives it a git worktree of its own);
task_stop and task_archive end and file it away.`

/** An MCP server with every tool and resource, and the watcher behind its notifications. */
export const makeMcpServer = async (
  ctx: McpContext,
  storeRoot: string,
  options: { readonly recheckMs?: number } = {},
): Promise<{ readonly server: McpServer; readonly watcher: StoreWatcher }> => {
  const server = new McpServer(
    { name: "codex-tasks", version: VERSION },
    {
      capabilities: { tools: {}, resources: { subscribe: true, listChanged: true } },
      instructions: INSTRUCTIONS,
    },
  )
  const watcher = await makeStoreWatcher({
    root: storeRoot,
    ...resourceProbes(ctx),
    onListChanged: () => server.sendResourceListChanged(),
    onUpdated: (uri) => {
      server.server.sendResourceUpdated({ uri }).catch(() => undefined)
    },
    ...options,
  })
  registerTaskTools(server, ctx)
  registerLogTool(server, ctx)
  registerDiffTool(server, ctx)
  registerControlTools(server, ctx)
  registerApprovalTools(server, ctx)
  registerResources(server, ctx, watcher)
  return { server, watcher }
}

/** Options of `serveStdio`. */
export interface ServeOptions {
  readonly storeRoot: string
  /** Builds the task service (the CLI's `tasksLayer`). */
  readonly layer: Layer.Layer<Tasks | TaskStore, unknown>
  readonly allowUnsafe: boolean
  /** `--allow-dir` values: more trees a client may point codex at (relative: from the cwd). */
  readonly allowDirs: ReadonlyArray<string>
  /** `--allow-repo` values: network repositories a `repoUrl` may name. */
  readonly allowRepos?: ReadonlyArray<string> | undefined
}

/**
 * Serves MCP over stdio until stdin ends (or the fiber is interrupted: SIGINT/SIGTERM). Each
 * request runs on its own fiber of one runtime, so a slow call never holds up the others.
 */
export const serveStdio = (options: ServeOptions) =>
  Effect.gen(function* () {
    // A bad --allow-dir ends the command before anything is served.
    const cwd = realpathSync.native(process.cwd())
    const allowDirs = yield* resolveAllowDirs(cwd, options.allowDirs)
    const allowRepos = yield* checkAllowRepos(cwd, options.allowRepos ?? [])
    keepStdoutForProtocol()
    setFaultRole("mcp")
    // The root is watched for tasks appearing: it has to exist.
    yield* ensurePrivateDir(options.storeRoot)
    const runtime = yield* Effect.acquireRelease(
      Effect.sync(() => ManagedRuntime.make(Layer.orDie(options.layer))),
      (rt) => Effect.promise(() => rt.dispose()),
    )
    const ctx: McpContext = {
      runtime,
      allowUnsafe: options.allowUnsafe,
      cwd,
      roots: [cwd, ...allowDirs],
      allowRepos,
    }
    const { server } = yield* Effect.acquireRelease(
      Effect.promise(() => makeMcpServer(ctx, options.storeRoot)),
      ({ server, watcher }) =>
        Effect.promise(async () => {
          watcher.close()
          await server.close().catch(() => undefined)
        }),
    )
    yield* serveOverStdio(
      server,
      `serving ${options.storeRoot}${options.allowUnsafe ? " (--allow-unsafe)" : `; tasks confined to ${ctx.roots.join(", ")}`}`,
    )
  }).pipe(Effect.scoped)
