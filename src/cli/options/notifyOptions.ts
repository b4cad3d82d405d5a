import { Options } from "@effect/cli"
import { Option } from "effect"
import type { TaskNotify } from "../../domain/notify.js"
import { noticeText } from "../../launcher/workerNotice.js"
import type { StartExtras } from "../../tasks/startExtras.js"

/** `start --on-finish CMD` and `--webhook URL` (stored with the task). */
export const notifyOptions = {
  onFinish: Options.text("on-finish").pipe(
    Options.withDescription(
      "When the task leaves RUNNING, run CMD with sh -c in its working directory; the task is in CODEX_TASKS_TASK_ID, _TITLE, _STATE, _OUTCOME, _RESULT_FILE, _LOG_FILE (env CODEX_TASKS_ON_FINISH).",
    ),
    Options.optional,
  ),
  webhook: Options.text("webhook").pipe(
    Options.withDescription(
      "When the task leaves RUNNING, POST its id, state, outcome and result as JSON to this http(s) URL (env CODEX_TASKS_WEBHOOK).",
    ),
    Options.optional,
  ),
}

const fromEnv = (name: string): string | undefined => {
  const v = process.env[name]
  return v === undefined || v === "" ? undefined : v
}

/** The notifications of a start: the flags, else the environment defaults. */
export const notifyFrom = (o: {
  readonly onFinish: Option.Option<string>
  readonly webhook: Option.Option<string>
}): TaskNotify | undefined => {
  const onFinish = Option.getOrUndefined(o.onFinish) ?? fromEnv("CODEX_TASKS_ON_FINISH")
  const webhook = Option.getOrUndefined(o.webhook) ?? fromEnv("CODEX_TASKS_WEBHOOK")
  if (onFinish === undefined && webhook === undefined) return undefined
  return {
    ...(onFinish === undefined ? {} : { on_finish: onFinish }),
    ...(webhook === undefined ? {} : { webhook }),
  }
}

/** What the CLI's `start` adds: the notifications, and one stderr line if it has to wait. */
export const cliStartExtras = (o: Parameters<typeof notifyFrom>[0]): StartExtras => {
  let told = false
  return {
    notify: notifyFrom(o),
    onNotice: (n) => {
      if (told) return
      told = true
      process.stderr.write(`${noticeText(n)}\n`)
    },
  }
}
