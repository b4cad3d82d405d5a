import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { ExitWith, UsageError } from "../domain/exit.js"
import { Tasks } from "../tasks/Tasks.js"
import { printLine } from "./input.js"
import { globalOptions } from "./root.js"
import { withTasks } from "./runtime.js"

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
    withTasks(
      Effect.gen(function* () {
        if (o.all === o.tasks.length > 0) {
          return yield* new UsageError({
            message: "Name the tasks to stop, or use --all (not both).",
          })
        }
        if (o.timeout <= 0) return yield* new UsageError({ message: "--timeout must be positive." })
        const reports = yield* (yield* Tasks).stop(o.all ? "all" : o.tasks, {
          afterTurn: o.afterTurn,
          timeoutMs: o.timeout * 1000,
        })
        let stopped = 0
        for (const r of reports) {
          if (r.status === "stopped") {
            stopped++
            yield* printLine(`Task ${r.id} stopped.`)
          } else if (r.status === "killed") {
            stopped++
            yield* printLine(r.message)
          } else if (r.status === "unknown") {
            process.stderr.write(`codex-tasks: ${r.message}\n`)
          } else if (!o.all) {
            yield* printLine(`Task ${r.id} is not running.`)
          }
        }
        if (o.all) yield* printLine(`Stopped ${stopped} task(s).`)
        else if (reports.some((r) => r.status === "not-running" || r.status === "unknown")) {
          return yield* new ExitWith({ code: 1, message: "" })
        }
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Stop tasks: interrupt codex, drop queued prompts, and wait until no process is left.\n\nExample: codex-tasks stop 0199d7c2\nExample: codex-tasks stop --all --after-turn",
  ),
)
