import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { timeoutSecondsProblem } from "../../domain/duration.js"
import { ExitCode, ExitWith, UsageError } from "../../domain/exit.js"
import { stopLines, stopMissedSome } from "../../render/reports.js"
import { Tasks } from "../../tasks/Tasks.js"
import { tasksOrAll } from "../options/shared.js"
import { printLine, printNote } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, notOnFleet, refuseOnFleet, withTasks } from "../runtime.js"

/** `codex-tasks stop`: stop tasks and wait until their processes are gone. */
export const stop = Command.make(
  "stop",
  {
    ...globalOptions,
    all: Options.boolean("all").pipe(
      Options.withAlias("a"),
      Options.withDescription("Stop every running task."),
    ),
    afterTurn: Options.boolean("after-turn").pipe(
      Options.withDescription(
        "Let the turn in progress finish first (queued prompts are dropped).",
      ),
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("Seconds to wait before killing the worker."),
      Options.withDefault(30),
    ),
    tasks: Args.text({ name: "TASK" }).pipe(
      Args.withDescription("Task ids or unique prefixes."),
      Args.repeated,
    ),
  },
  (o) =>
    Effect.zipRight(
      refuseOnFleet(o, o.all ? "stop --all" : undefined),
      fleetOr(
        o,
        (fleet) =>
          Effect.gen(function* () {
            if (o.all) return yield* notOnFleet("stop --all")
            const refs = yield* tasksOrAll("stop", o.all, o.tasks)
            if (refs === "all") return yield* notOnFleet("stop --all")
            if (o.timeout <= 0) {
              return yield* new UsageError({ message: "--timeout must be positive." })
            }
            return yield* fleet.fleetStop(refs, o.afterTurn, o.timeout * 1000)
          }),
        withTasks(
          Effect.gen(function* () {
            const refs = yield* tasksOrAll("stop", o.all, o.tasks)
            if (o.timeout <= 0)
              return yield* new UsageError({ message: "--timeout must be positive." })
            const tooLong = timeoutSecondsProblem(o.timeout)
            if (Option.isSome(tooLong)) return yield* new UsageError({ message: tooLong.value })
            const reports = yield* (yield* Tasks).stop(refs, {
              afterTurn: o.afterTurn,
              timeoutMs: o.timeout * 1000,
            })
            for (const line of stopLines(reports, o.all)) {
              yield* line.diagnostic === true
                ? printNote(`codex-tasks: ${line.text}`)
                : printLine(line.text)
            }
            if (!o.all && stopMissedSome(reports)) {
              return yield* new ExitWith({ code: ExitCode.Error, message: "" })
            }
          }),
          o,
        ),
      ),
    ),
).pipe(
  Command.withDescription(
    "Stop tasks: interrupt codex, drop queued prompts, and wait until no process is left.\n\nExample: codex-tasks stop 0199d7c2\nExample: codex-tasks stop --all --after-turn",
  ),
)
