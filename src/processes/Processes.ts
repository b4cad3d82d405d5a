import { Context, type Effect, type Option } from "effect"
import type { ProcessIdentity } from "./identity.js"

export { RUN_MARKER_VAR } from "./runMarker.js"

/** The process table: what runs, who it is, and signals. Live: Linux /proc; fake: `testing/`. */
export interface ProcessesShape {
  /** The identity of a live process (none when it is gone or a zombie). */
  readonly identify: (pid: number) => Effect.Effect<Option.Option<ProcessIdentity>>
  /** The command line of a live process, arguments joined by spaces. */
  readonly commandLine: (pid: number) => Effect.Effect<Option.Option<string>>
  /** Every live descendant of `root` right now. */
  readonly descendants: (root: number) => Effect.Effect<ReadonlyArray<ProcessIdentity>>
  /** Every live process (but the caller) whose environment holds `name`, grouped by its value. */
  readonly withEnv: (
    name: string,
  ) => Effect.Effect<ReadonlyMap<string, ReadonlyArray<ProcessIdentity>>>
  /** Sends a signal to a pid, or to a process group when negative; false if there is none. */
  readonly signal: (target: number, signal: NodeJS.Signals) => Effect.Effect<boolean>
}

/** The process table port (see `ProcessesShape`). */
export class Processes extends Context.Tag("codex-tasks/Processes")<Processes, ProcessesShape>() {}
