import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { answerApproval } from "../../tasks/approvals.js"
import { taskArg } from "../options/shared.js"
import { printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { refuseOnFleet, withTasks } from "../runtime.js"

/** `codex-tasks approve`: let codex do what the task waits for approval of. */
export const approve = Command.make(
  "approve",
  {
    ...globalOptions,
    forSession: Options.boolean("for-session").pipe(
      Options.withDescription(
        "Also approve what codex asks for alike for the rest of the session.",
      ),
    ),
    task: taskArg,
  },
  (o) =>
    Effect.zipRight(
      refuseOnFleet(o, "approve"),
      withTasks(
        Effect.gen(function* () {
          const decision = o.forSession ? "acceptForSession" : "accept"
          const { id } = yield* answerApproval(o.task, { decision })
          yield* printLine(`Task ${id}: approved${o.forSession ? " for the session" : ""}.`)
        }),
        o,
      ),
    ),
).pipe(
  Command.withDescription(
    "Approve the request a task started with --approvals ask is waiting for (see status).\n\nExample: codex-tasks approve 0199d7c2",
  ),
)
