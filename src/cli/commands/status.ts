import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { timeoutSecondsProblem } from "../../domain/duration.js"
import { UsageError } from "../../domain/exit.js"
import { jsonOption, timeFormatOption, timeoutOption } from "../options/shared.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"
import { showStatus } from "./showStatus.js"

/** `codex-tasks status`: show tasks, or wait for them to finish. */
export const status = Command.make(
  "status",
  {
    ...globalOptions,
    json: jsonOption,
    timeFormat: timeFormatOption,
    all: Options.boolean("all").pipe(
      Options.withAlias("a"),
      Options.withDescription("Every task."),
    ),
    allRunning: Options.boolean("all-running").pipe(
      Options.withAlias("A"),
      Options.withDescription("Every running task."),
    ),
    wait: Options.boolean("wait").pipe(
      Options.withDescription("Wait until all selected tasks finish."),
    ),
    waitAny: Options.boolean("wait-any").pipe(
      Options.withDescription("Wait until one selected task finishes."),
    ),
    timeout: timeoutOption,
    tasks: Args.text({ name: "TASK" }).pipe(
      Args.withDescription("Task ids or unique prefixes."),
      Args.repeated,
    ),
  },
  (o) =>
    fleetOr(
      o,
      (fleet) =>
        Effect.gen(function* () {
          if ([o.all, o.allRunning, o.tasks.length > 0].filter(Boolean).length !== 1) {
            return yield* new UsageError({
              message: "Name tasks, or use --all or --all-running (one of them).",
            })
          }
          const refs = o.all ? "all" : o.allRunning ? "running" : o.tasks
          if (!o.wait && !o.waitAny) return yield* fleet.fleetStatus(refs, o.json, o.timeFormat)
          if (o.wait && o.waitAny) {
            return yield* new UsageError({ message: "--wait and --wait-any exclude each other." })
          }
          const problem = Option.flatMap(o.timeout, timeoutSecondsProblem)
          if (Option.isSome(problem)) return yield* new UsageError({ message: problem.value })
          return yield* fleet.fleetWait(refs, {
            mode: o.wait ? "all" : "any",
            timeoutSeconds: Option.getOrUndefined(o.timeout),
            json: o.json,
            timeFormat: o.timeFormat,
          })
        }),
      withTasks(showStatus(o), o),
    ),
).pipe(
  Command.withDescription(
    "Show tasks (state, outcome, last prompt and result), or wait for them to finish.\n\nExample: codex-tasks status 0199d7c2\nExample: codex-tasks status --json -A\nExample: codex-tasks status --wait-any --timeout 600 TASK1 TASK2 TASK3",
  ),
)
