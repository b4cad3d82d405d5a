import { Command, Options } from "@effect/cli"

/** `--store-root PATH`: where tasks are kept (else `CODEX_TASKS_HOME`, `$CODEX_HOME/tasks`, `~/.codex/tasks`). */
export const storeRootOption = Options.text("store-root").pipe(
  Options.withDescription(
    "Task store directory (default: $CODEX_HOME/tasks, else ~/.codex/tasks).",
  ),
  Options.optional,
)

/** `--codex-bin PATH`: the codex executable (else `CODEX_TASKS_CODEX_BIN`, else `codex` on PATH). */
export const codexBinOption = Options.text("codex-bin").pipe(
  Options.withDescription("The codex executable (default: `codex` on PATH)."),
  Options.optional,
)

/** `--max-running N`: at most N codex invocations of the store at once (env `CODEX_TASKS_MAX_RUNNING`). */
export const maxRunningOption = Options.integer("max-running").pipe(
  Options.withDescription(
    "Run at most N codex invocations of this store at once; the others wait for a slot, first come first served (env CODEX_TASKS_MAX_RUNNING; default unlimited; 0 = unlimited). With --cluster: N slots across the whole fleet, in no fixed order.",
  ),
  Options.optional,
)

/** `--cluster URL`: work on the fleet whose PostgreSQL this is (env `CODEX_TASKS_CLUSTER`; docs/cluster.md). */
export const clusterOption = Options.text("cluster").pipe(
  Options.withDescription(
    "Work on the fleet of runners sharing this PostgreSQL (docs/cluster.md); the password is never shown.",
  ),
  Options.optional,
)

/**
 * The global options. They are accepted before the command (`codex-tasks --store-root X ls`) and
 * after it (`codex-tasks ls --store-root X`); the one after the command wins.
 */
export const globalOptions = {
  storeRoot: storeRootOption,
  codexBin: codexBinOption,
  maxRunning: maxRunningOption,
  cluster: clusterOption,
}

/** The root command `codex-tasks` and its global options; subcommands read them from here. */
export const root = Command.make("codex-tasks", globalOptions).pipe(
  Command.withDescription(
    "Run OpenAI Codex agent sessions in the background: start, send, status, log, stop, ls, archive.",
  ),
)
