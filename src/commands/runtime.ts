import { homedir } from "node:os"
import { Effect, Layer, Option } from "effect"
import { nativeCodex } from "../exec/nativeCodex.js"
import { resolveStoreRoot } from "../store/storeRoot.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks, TasksConfig } from "../tasks/Tasks.js"
import * as WorkerLauncher from "../tasks/WorkerLauncher.js"
import { defaultRetryPolicy, type RetryPolicy } from "../worker/protocol.js"
import { root } from "./root.js"

/** The global options as a subcommand parsed them (see `globalOptions`). */
export interface LocalGlobals {
  readonly storeRoot: Option.Option<string>
  readonly codexBin: Option.Option<string>
}

const none: LocalGlobals = { storeRoot: Option.none(), codexBin: Option.none() }

/**
 * The global options, resolved: store root and codex binary. A value given after the command
 * (`local`) wins over one given before it, which wins over the environment.
 */
export const globalsWith = (local: LocalGlobals = none) =>
  Effect.map(root, (g) => ({
    storeRoot: resolveStoreRoot({
      flag: Option.getOrUndefined(Option.orElse(local.storeRoot, () => g.storeRoot)),
      env: process.env,
      home: homedir(),
    }),
    codexBin: Option.getOrElse(
      Option.orElse(local.codexBin, () => g.codexBin),
      () =>
        process.env.CODEX_TASKS_CODEX_BIN !== undefined && process.env.CODEX_TASKS_CODEX_BIN !== ""
          ? process.env.CODEX_TASKS_CODEX_BIN
          : "codex",
    ),
  }))

/** The global options given before the command (see `globalsWith`). */
export const globals = globalsWith()

const count = (text: string | undefined, fallback: number, max: number) => {
  const n = Number(text)
  return text !== undefined && text !== "" && Number.isInteger(n) && n >= 0
    ? Math.min(n, max)
    : fallback
}

/**
 * The retry policy: `CODEX_TASKS_MAX_RETRIES` (default 2, at most 10) retries of a retryable
 * failure, the first after `CODEX_TASKS_RETRY_DELAY_MS` (default 2000) ms, doubling each time.
 */
export const retryPolicyFromEnv = (env: NodeJS.ProcessEnv): RetryPolicy => ({
  maxRetries: count(env.CODEX_TASKS_MAX_RETRIES, defaultRetryPolicy.maxRetries, 10),
  baseDelayMs: count(env.CODEX_TASKS_RETRY_DELAY_MS, defaultRetryPolicy.baseDelayMs, 600_000),
  maxDelayMs: defaultRetryPolicy.maxDelayMs,
})

/** The command that re-enters this program as a detached worker. */
const workerCommand = (): ReadonlyArray<string> => [
  process.execPath,
  ...process.execArgv,
  process.argv[1] ?? "codex-tasks",
  "__worker",
]

/** The store alone (read-only commands need nothing else). */
export const storeLayer = (storeRoot: string) => TaskStore.layer(storeRoot)

/**
 * Everything the task operations need, built from the global options. codex is run as its
 * native binary when the one given is the npm launcher (see `exec/nativeCodex.ts`).
 */
export const tasksLayer = (g: { storeRoot: string; codexBin: string }) =>
  Tasks.Default.pipe(
    Layer.provideMerge(storeLayer(g.storeRoot)),
    Layer.provide(WorkerLauncher.layer(workerCommand())),
    Layer.provide(TasksConfig.layer(nativeCodex(g.codexBin).bin, retryPolicyFromEnv(process.env))),
  )

/** Runs `effect` with the task service (and the store) built from the global options. */
export const withTasks = <A, E>(
  effect: Effect.Effect<A, E, Tasks | TaskStore>,
  local: LocalGlobals = none,
) => Effect.flatMap(globalsWith(local), (g) => Effect.provide(effect, tasksLayer(g)))

/** Runs `effect` with the store alone (read-only commands load nothing else). */
export const storeOf = <A, E>(effect: Effect.Effect<A, E, TaskStore>, local: LocalGlobals = none) =>
  Effect.flatMap(globalsWith(local), (g) => Effect.provide(effect, storeLayer(g.storeRoot)))
