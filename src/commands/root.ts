import { Command, Options } from "@effect/cli"
import { Config } from "effect"

/** `--store-root PATH` (env `CODEX_TASKS_HOME`): where tasks are kept. */
export const storeRootOption = Options.directory("store-root", { exists: "either" }).pipe(
  Options.withFallbackConfig(Config.string("CODEX_TASKS_HOME")),
  Options.withDescription(
    "Task store directory (env CODEX_TASKS_HOME; default $CODEX_HOME/tasks, else ~/.codex/tasks).",
  ),
  Options.optional,
)

/** `--codex-bin PATH` (env `CODEX_TASKS_CODEX_BIN`): the codex executable. */
export const codexBinOption = Options.text("codex-bin").pipe(
  Options.withFallbackConfig(Config.string("CODEX_TASKS_CODEX_BIN")),
  Options.withDescription(
    "The codex executable (env CODEX_TASKS_CODEX_BIN; default `codex` on PATH).",
  ),
  Options.optional,
)

/** The root command `codex-tasks` and its global options; subcommands read them from here. */
export const root = Command.make("codex-tasks", {
  storeRoot: storeRootOption,
  codexBin: codexBinOption,
}).pipe(
  Command.withDescription(
    "Run OpenAI Codex agent sessions in the background: start, send, status, log, stop, ls, archive.",
  ),
)
