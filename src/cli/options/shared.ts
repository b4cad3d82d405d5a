import { Args, Options } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "../../domain/exit.js"

/** `--time-format human|iso`. */
export const timeFormatOption = Options.choice("time-format", ["human", "iso"] as const).pipe(
  Options.withDescription(
    "How times are shown: human (local time, like `date`) or iso (RFC 3339 UTC).",
  ),
  Options.withDefault("human" as const),
)

/** The one `TASK` argument of a command. */
export const taskArg = Args.text({ name: "TASK" }).pipe(
  Args.withDescription("Task id or unique prefix."),
)

/** `--json`. */
export const jsonOption = Options.boolean("json").pipe(Options.withDescription("Print JSON."))

/** `--timeout SECONDS` (optional). */
export const timeoutOption = Options.integer("timeout").pipe(
  Options.withDescription("Give up after SECONDS (exit 124)."),
  Options.optional,
)

/** Task ids, or `--all`: exactly one of the two (a usage error names `verb`). */
export const tasksOrAll = (verb: string, all: boolean, tasks: ReadonlyArray<string>) =>
  all === tasks.length > 0
    ? Effect.fail(
        new UsageError({ message: `Name the tasks to ${verb}, or use --all (not both).` }),
      )
    : Effect.succeed(all ? ("all" as const) : tasks)
