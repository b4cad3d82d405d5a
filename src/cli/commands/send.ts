import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { sendText } from "../../render/reports.js"
import { Tasks } from "../../tasks/Tasks.js"
import { sendBackendOptions } from "../options/backendOption.js"
import { fleetMaxRunning } from "../options/fleetMaxRunning.js"
import { sendLimitOptions, sendLimits } from "../options/limitOptions.js"
import { promptFrom } from "../options/promptArg.js"
import { taskArg } from "../options/shared.js"
import { printJson, printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"
import { checkWatchOptions, followTranscript, waitAndReport, watchOptions } from "./turnWatch.js"

/** `codex-tasks send`: give a task its next prompt (queued while it is busy). */
export const send = Command.make(
  "send",
  {
    ...globalOptions,
    json: Options.boolean("json").pipe(Options.withDescription("Print the receipt as JSON.")),
    ...sendLimitOptions,
    ...sendBackendOptions,
    steer: Options.boolean("steer").pipe(
      Options.withDescription(
        "Join the turn in flight (app-server tasks; the model sees the prompt at its next step); without one the prompt is queued as usual.",
      ),
    ),
    ...watchOptions,
    task: taskArg,
    prompt: Args.text({ name: "PROMPT" }).pipe(Args.withDescription("The prompt, or - for stdin.")),
  },
  (o) =>
    fleetOr(
      o,
      (fleet) =>
        Effect.gen(function* () {
          yield* checkWatchOptions(o)
          const raise = yield* sendLimits(o)
          const prompt = yield* promptFrom(o.prompt)
          const slots = yield* fleetMaxRunning(o)
          return yield* fleet.fleetSend(
            o.task,
            prompt,
            raise.maxTokens,
            o.json,
            o.wait ? "wait" : o.follow ? "follow" : "none",
            slots,
            { steer: o.steer, backend: Option.getOrUndefined(o.backend) },
          )
        }),
      withTasks(
        Effect.gen(function* () {
          yield* checkWatchOptions(o)
          const raise = yield* sendLimits(o)
          const prompt = yield* promptFrom(o.prompt)
          const receipt = yield* (yield* Tasks).send(o.task, prompt, {
            ...raise,
            backend: Option.getOrUndefined(o.backend),
            steer: o.steer,
          })
          if (o.wait) return yield* waitAndReport(receipt.id, o.json, receipt.seq)
          if (o.follow) return yield* followTranscript(receipt.id, receipt.logOffset, prompt)
          if (o.json) {
            const { logOffset: _, ...shown } = receipt
            return yield* printJson(shown)
          }
          yield* printLine(sendText(receipt, o.steer))
        }),
        o,
        { launches: true },
      ),
    ),
).pipe(
  Command.withDescription(
    "Send a prompt to a task; it runs now, or after the prompts already queued.\n\nExample: codex-tasks send 0199d7c2 'Now write the fix.'",
  ),
)
