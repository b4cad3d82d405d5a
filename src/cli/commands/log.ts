import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { UsageError } from "../../domain/exit.js"
import { renderLogLine } from "../../render/longLine.js"
import { makeTranscriptRenderer } from "../../render/transcript.js"
import { Tasks } from "../../tasks/Tasks.js"
import { taskArg } from "../options/shared.js"
import { Printer, stdoutStyle } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"

/** `codex-tasks log`: a task's transcript, as text or raw JSONL, optionally following it. */
export const log = Command.make(
  "log",
  {
    ...globalOptions,
    json: Options.boolean("json").pipe(Options.withDescription("Print the raw JSONL log.")),
    follow: Options.boolean("follow").pipe(
      Options.withAlias("f"),
      Options.withDescription("Keep printing new events until the task stops running."),
    ),
    forever: Options.boolean("forever").pipe(
      Options.withAlias("F"),
      Options.withDescription("Keep printing new events, even after the task stops (Ctrl-C ends)."),
    ),
    lines: Options.integer("lines").pipe(
      Options.withAlias("n"),
      Options.withDescription("Only the last N events."),
      Options.optional,
    ),
    full: Options.boolean("full").pipe(Options.withDescription("Do not shorten command output.")),
    task: taskArg,
  },
  (o) =>
    fleetOr(
      o,
      (fleet) =>
        Effect.gen(function* () {
          const lastLines = Option.getOrUndefined(o.lines)
          if (lastLines !== undefined && lastLines < 0) {
            return yield* new UsageError({ message: "--lines must be zero or more." })
          }
          return yield* fleet.fleetLog(o.task, {
            json: o.json,
            follow: o.forever ? "forever" : o.follow ? "while-running" : "none",
            lastLines,
            full: o.full,
          })
        }),
      withTasks(
        Effect.gen(function* () {
          const lastLines = Option.getOrUndefined(o.lines)
          if (lastLines !== undefined && lastLines < 0) {
            return yield* new UsageError({ message: "--lines must be zero or more." })
          }
          const tasks = yield* Tasks
          const printer = yield* Printer
          const loc = yield* tasks.resolve(o.task, { includeArchived: true })
          const renderer = makeTranscriptRenderer({ style: stdoutStyle(), full: o.full })
          const onLines = (lines: ReadonlyArray<Buffer>) => {
            if (o.json) {
              return printer.write(Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])))
            }
            let text = ""
            for (const l of lines) {
              const rendered = renderLogLine(renderer, l, loc.id)
              if (rendered !== "") text += rendered.endsWith("\n") ? rendered : `${rendered}\n`
            }
            return text === "" ? Effect.void : printer.write(text)
          }
          yield* tasks.readLog(loc, onLines, {
            lastLines,
            follow: o.forever ? "forever" : o.follow ? "while-running" : "none",
          })
          if (!o.json) {
            const running = (yield* tasks.currentState(loc)) === "RUNNING"
            const pending = renderer.pending(!running)
            if (pending !== "")
              yield* printer.write(pending.endsWith("\n") ? pending : `${pending}\n`)
          }
        }),
        o,
      ),
    ),
).pipe(
  Command.withDescription(
    "Print a task's transcript (codex-exec style), or its raw JSONL with --json.\n\nExample: codex-tasks log -f 0199d7c2\nExample: codex-tasks log --json -n 20 0199d7c2 | jq .type",
  ),
)
