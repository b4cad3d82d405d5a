import { Args, Options } from "@effect/cli"
import { Effect } from "effect"
import { colorEnabled, makeStyle } from "../render/style.js"
import type { Unreadable } from "../tasks/queries.js"
import { printNote } from "./Printer.js"

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

/** Colours for stdout: only on a terminal, never with NO_COLOR. */
export const stdoutStyle = () => makeStyle(colorEnabled(process.stdout, process.env))

/** Reports tasks that could not be read, on stderr. */
export const reportUnreadable = (broken: ReadonlyArray<Unreadable>) =>
  Effect.forEach(broken, (b) => printNote(`codex-tasks: ${b.message}`), { discard: true })
