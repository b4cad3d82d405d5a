import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { answerText } from "../../render/reports.js"
import { answerApproval } from "../../tasks/approvals.js"
import { taskArg } from "../options/shared.js"
import { printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"

/** `codex-tasks decline`: refuse what the task waits for approval of. */
export const decline = Command.make(
  "decline",
  {
    ...globalOptions,
    message: Options.text("message").pipe(
      Options.withDescription(
        "Why: logged, and sent to codex right after the decline (it joins the running turn, or runs as the next prompt).",
      ),
      Options.optional,
    ),
    task: taskArg,
  },
  (o) => {
    const message = Option.getOrUndefined(o.message)
    const answer = { decision: "decline", ...(message === undefined ? {} : { message }) } as const
    return fleetOr(
      o,
      (fleet) => fleet.fleetAnswer(o.task, answer),
      withTasks(
        Effect.gen(function* () {
          const { id } = yield* answerApproval(o.task, answer)
          yield* printLine(answerText(id, "decline", undefined, message !== undefined))
        }),
        o,
      ),
    )
  },
).pipe(
  Command.withDescription(
    "Decline the request a task started with --approvals ask is waiting for; codex goes on without it.\n\nExample: codex-tasks decline 0199d7c2 --message 'not on main'",
  ),
)
