import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { answerText } from "../../render/reports.js"
import { answerApproval } from "../../tasks/approvals.js"
import { taskArg } from "../options/shared.js"
import { printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"

/** `codex-tasks approve`: let codex do what the task waits for approval of, or answer its questions. */
export const approve = Command.make(
  "approve",
  {
    ...globalOptions,
    forSession: Options.boolean("for-session").pipe(
      Options.withDescription(
        "Also approve what codex asks for alike for the rest of the session.",
      ),
    ),
    answer: Options.text("answer").pipe(
      Options.withDescription(
        "For a task waiting for input: the answer to its next question (repeat, in question order; a choice by its label).",
      ),
      Options.repeated,
    ),
    task: taskArg,
  },
  (o) => {
    const decision = o.forSession ? "acceptForSession" : "accept"
    const answers = o.answer.length > 0 ? { answers: o.answer } : {}
    return fleetOr(
      o,
      (fleet) => fleet.fleetAnswer(o.task, { decision, ...answers }),
      withTasks(
        Effect.gen(function* () {
          const { id, waiting } = yield* answerApproval(o.task, { decision, ...answers })
          yield* printLine(answerText(id, decision, waiting, false))
        }),
        o,
      ),
    )
  },
).pipe(
  Command.withDescription(
    "Approve the request a task started with --approvals ask is waiting for (see status).\n\nA task waiting for input (codex's questions) takes one --answer per question, in order.\n\nExample: codex-tasks approve 0199d7c2\nExample: codex-tasks approve 0199d7c2 --answer Blue --answer 'by Friday'",
  ),
)
