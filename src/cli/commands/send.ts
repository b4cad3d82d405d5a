import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Tasks } from "../../tasks/Tasks.js"
import { sendBackendOptions } from "../options/backendOption.js"
import { sendLimitOptions, sendLimits } from "../options/limitOptions.js"
import { promptFrom } from "../options/promptArg.js"
import { taskArg } from "../options/shared.js"
import { printJson, printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { withTasks } from "../runtime.js"
import { checkWatchOptions, followTranscript, waitAndReport, watchOptions } from "./turnWatch.js"

/** `codex-tasks send`: give a task its next prompt (queued while it is busy). */
export const send = Command.make(
  "send",
  {
    ...globalOptions,
    json: Options.boolean("json").pipe(Options.withDescription("Print the receipt as JSON.")),
    ...sendLimitOptions,
    ...sendBackendOptions,
    ...watchOptions,
    task: taskArg,
    prompt: Args.text({ name: "PROMPT" }).pipe(Args.withDescription("The prompt, or - for stdin.")),
  },
  (o) =>
    withTasks(
      Effect.gen(function* () {
        yield* checkWatchOptions(o)
        const raise = yield* sendLimits(o)
        const prompt = yield* promptFrom(o.prompt)
        const receipt = yield* (yield* Tasks).send(o.task, prompt, {
          ...raise,
          backend: Option.getOrUndefined(o.backend),
        })
        if (o.wait) return yield* waitAndReport(receipt.id, o.json, receipt.seq)
        if (o.follow) return yield* followTranscript(receipt.id, receipt.logOffset, prompt)
        if (o.json) {
          const { logOffset: _, ...shown } = receipt
          return yield* printJson(shown)
        }
        yield* printLine(
          receipt.status === "started"
            ? `Task ${receipt.id}: prompt started a new turn.`
            : `Task ${receipt.id}: prompt queued at position ${receipt.position}.`,
        )
      }),
      o,
      { launches: true },
    ),
).pipe(
  Command.withDescription(
    "Send a prompt to a task; it runs now, or after the prompts already queued.\n\nExample: codex-tasks send 0199d7c2 'Now write the fix.'",
  ),
)
