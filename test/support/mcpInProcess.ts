import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { PinnedPath } from "../../src/exec/pinnedPaths.js"
import { WorkerLauncher, WorkerLaunchFailed } from "../../src/launcher/WorkerLauncher.js"
import { makeMcpServer } from "../../src/mcp/server.js"
import * as ProcessesLive from "../../src/processes/live.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { StartFailed } from "../../src/tasks/errors.js"
import { type StartInput, type StopReport, Tasks, TasksConfig } from "../../src/tasks/Tasks.js"

// The MCP server in-process over the SDK's in-memory transport, on a copy of a store the Rust
// tool wrote, with a stand-in for the task service (start/send/stop spawn no process here).

/** The fixture store the in-process servers (MCP, serve) run on a copy of. */
export const FIXTURE = new URL("../../fixtures/legacy-stores/exec-era/", import.meta.url).pathname
/** The fixture's STOPPED task (its task.json names a config_path and a working_dir). */
export const DONE = "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d"
/** The fixture's RUNNING task whose worker is gone (reads DIED). */
export const DEAD = "0199d7c3-0a11-7b22-8c33-4d4e5f607182"
/** The fixture's DIED task. */
export const FAILED = "0199d7c4-1b2c-7d3e-9f40-5162738495a6"
/** The fixture's archived task (under archive/2025/10/11/). */
export const ARCHIVED = "0199d7b0-aaaa-7bbb-8ccc-dddddddddddd"
/** The id the stand-in `start` answers with. */
export const STARTED_ID = "0199eeee-0000-7000-8000-000000000001"

/** What the stand-in task service was asked to do. */
export interface Calls {
  readonly starts: Array<StartInput>
  readonly sends: Array<{
    readonly ref: string
    readonly prompt: string
    readonly pinnedPaths?: ReadonlyArray<PinnedPath> | undefined
    readonly backend?: string | undefined
    readonly steer?: boolean | undefined
  }>
  readonly stops: Array<ReadonlyArray<string> | "all">
}

/** How the in-process server is set up. */
export interface InProcessOptions {
  readonly allowUnsafe?: boolean
  /** The server's working directory (default: a fresh empty directory). */
  readonly cwd?: string
  /** `--allow-dir` directories (real paths). */
  readonly allowDirs?: ReadonlyArray<string>
  /** `--allow-repo` addresses. */
  readonly allowRepos?: ReadonlyArray<string>
  /** The watcher's periodic re-check interval. */
  readonly recheckMs?: number
  /** Wraps the store the server uses (to count its calls). */
  readonly wrapStore?: (store: TaskStore) => TaskStore
}

/** The real task service for reads and archive; start, send and stop recorded instead of run. */
export const standInTasks = (calls: Calls) =>
  Layer.effect(
    Tasks,
    Effect.map(Tasks, (real) => Tasks.make({ ...real, ...launchStandIns(calls) })),
  ).pipe(
    Layer.provide(Tasks.Default),
    Layer.provide(
      Layer.succeed(WorkerLauncher, {
        launch: () => Effect.fail(new WorkerLaunchFailed({ message: "no workers in this test" })),
      }),
    ),
    Layer.provide(TasksConfig.layer("codex")),
    Layer.provide(ProcessesLive.layer),
  )

const launchStandIns = (calls: Calls) =>
  ({
    start: (input: StartInput) =>
      input.prompt === "fail"
        ? Effect.fail(new StartFailed({ message: "codex refused: not trusted", errorTag: "X" }))
        : Effect.sync(() => {
            calls.starts.push(input)
            return { id: STARTED_ID }
          }),
    send: (
      ref: string,
      prompt: string,
      more?: {
        readonly pinnedPaths?: ReadonlyArray<PinnedPath> | undefined
        readonly backend?: string | undefined
        readonly steer?: boolean | undefined
      },
    ) =>
      Effect.sync(() => {
        calls.sends.push({
          ref,
          prompt,
          pinnedPaths: more?.pinnedPaths,
          ...(more?.backend === undefined ? {} : { backend: more.backend }),
          ...(more?.steer === undefined ? {} : { steer: more.steer }),
        })
        return { id: ref, seq: 1, logOffset: 0, status: "started" as const }
      }),
    stop: (refs: ReadonlyArray<string> | "all") =>
      Effect.sync(() => {
        calls.stops.push(refs)
        const ids = refs === "all" ? [DONE, DEAD] : refs
        // As the real service reports them: an id of no task is "unknown", with the reason.
        return ids.map(
          (id): StopReport =>
            id === DEAD
              ? { id, status: "stopped" }
              : [DONE, FAILED, ARCHIVED].includes(id)
                ? { id, status: "not-running" }
                : { id, status: "unknown", message: `No task matches '${id}'.` },
        )
      }),
  }) as const

/** A server on a fresh copy of the fixture store and a connected client; `close` ends both. */
export const connectInProcess = async (options: InProcessOptions = {}) => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "ct-mcp-")))
  const storeRoot = join(base, "store")
  cpSync(FIXTURE, storeRoot, { recursive: true })
  const cwd = options.cwd ?? join(base, "cwd")
  mkdirSync(cwd, { recursive: true })
  const calls: Calls = { starts: [], sends: [], stops: [] }
  const wrap = options.wrapStore
  const storeLayer =
    wrap === undefined
      ? TaskStore.layer(storeRoot)
      : Layer.effect(TaskStore, Effect.map(TaskStore, wrap)).pipe(
          Layer.provide(TaskStore.layer(storeRoot)),
        )
  const runtime = ManagedRuntime.make(
    Layer.orDie(standInTasks(calls).pipe(Layer.provideMerge(storeLayer))),
  )
  const { server, watcher } = await makeMcpServer(
    {
      runtime,
      allowUnsafe: options.allowUnsafe === true,
      cwd,
      roots: [cwd, ...(options.allowDirs ?? [])],
      allowRepos: options.allowRepos,
    },
    storeRoot,
    options.recheckMs === undefined ? {} : { recheckMs: options.recheckMs },
  )
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  const client = new Client({ name: "unit", version: "1.0.0" })
  await client.connect(clientSide)
  const close = async () => {
    await client.close()
    watcher.close()
    await server.close()
    await runtime.dispose()
    rmSync(base, { recursive: true, force: true })
  }
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult
  return { client, call, calls, storeRoot, cwd, base, close }
}

/** Writes a task directory with `fields` merged into the DONE task's metadata under `id`. */
export const writeTask = (storeRoot: string, id: string, fields: Record<string, unknown>) => {
  const dir = join(storeRoot, id)
  cpSync(join(storeRoot, DONE), dir, { recursive: true })
  const meta = JSON.parse(readFileSync(join(dir, "task.json"), "utf8")) as Record<string, unknown>
  const { config_path: _, working_dir: __, ...rest } = meta
  writeFileSync(join(dir, "task.json"), JSON.stringify({ ...rest, id, ...fields }))
  return dir
}

/** The text of a tool result. */
export const text = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === "text" ? c.text : "")).join("")
