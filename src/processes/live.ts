import { Effect, Layer, Option } from "effect"
import { Processes, type ProcessesShape } from "./Processes.js"
import { commandLineOf, descendantsOf, identityOf, processesByEnv, sendSignal } from "./procfs.js"

/** The real process table (Linux /proc; elsewhere only pids can be checked and signalled). */
export const liveProcesses: ProcessesShape = {
  identify: (pid) => Effect.sync(() => Option.fromNullable(identityOf(pid))),
  commandLine: (pid) => Effect.sync(() => Option.fromNullable(commandLineOf(pid))),
  descendants: (root) => Effect.sync(() => descendantsOf(root)),
  withEnv: (name) => Effect.sync(() => processesByEnv(name)),
  signal: (target, signal) => Effect.sync(() => sendSignal(target, signal)),
}

/** The live `Processes` layer. */
export const layer: Layer.Layer<Processes> = Layer.succeed(Processes, liveProcesses)
