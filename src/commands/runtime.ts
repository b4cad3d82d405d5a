import { homedir } from "node:os"
import { Effect, Layer, Option } from "effect"
import { resolveStoreRoot } from "../store/storeRoot.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks, TasksConfig } from "../tasks/Tasks.js"
import * as WorkerLauncher from "../tasks/WorkerLauncher.js"
import { root } from "./root.js"

/** The global options, resolved: store root and codex binary. */
export const globals = Effect.map(root, (g) => ({
  storeRoot: resolveStoreRoot({
    flag: Option.getOrUndefined(g.storeRoot),
    env: process.env,
    home: homedir(),
  }),
  codexBin: Option.getOrElse(g.codexBin, () => "codex"),
}))

/** The command that re-enters this program as a detached worker. */
const workerCommand = (): ReadonlyArray<string> => [
  process.execPath,
  ...process.execArgv,
  process.argv[1] ?? "codex-tasks",
  "__worker",
]

/** The store alone (read-only commands need nothing else). */
export const storeLayer = (storeRoot: string) => TaskStore.layer(storeRoot)

/** Everything the task operations need, built from the global options. */
export const tasksLayer = (g: { storeRoot: string; codexBin: string }) =>
  Tasks.Default.pipe(
    Layer.provideMerge(storeLayer(g.storeRoot)),
    Layer.provide(WorkerLauncher.layer(workerCommand())),
    Layer.provide(TasksConfig.layer(g.codexBin)),
  )

/** Runs `effect` with the task service (and the store) built from the global options. */
export const withTasks = <A, E>(effect: Effect.Effect<A, E, Tasks | TaskStore>) =>
  Effect.flatMap(globals, (g) => Effect.provide(effect, tasksLayer(g)))

/** Runs `effect` with the store alone (read-only commands load nothing else). */
export const storeOf = <A, E>(effect: Effect.Effect<A, E, TaskStore>) =>
  Effect.flatMap(globals, (g) => Effect.provide(effect, storeLayer(g.storeRoot)))
