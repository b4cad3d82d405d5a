/** How our synthetic `task.log` entries (`domain/logEntries.ts`) are drawn in the transcript. */
import type { LogEntry } from "../domain/logEntries.js"
import { type Draw, head } from "./transcriptItems.js"
import { clean } from "./transcriptText.js"

/** Entries that begin a new part of the transcript: what was still open is closed before them. */
export const flushesBefore = (e: LogEntry): boolean =>
  e.type === "user_message" || e.type === "retry" || e.type === "invocation_failed"

const dropped = (count: number, reason: string | undefined): string =>
  `${count} queued prompt${count === 1 ? "" : "s"} dropped${reason === undefined ? "" : ` (${clean(reason)})`}:`

/** The lines of one synthetic entry. */
export const drawEntry = (d: Draw, e: LogEntry): Array<string> => {
  const s = d.s
  switch (e.type) {
    case "user_message":
      return [head(d, "user", s.cyan), clean(e.message)]
    case "stderr":
      return [s.dim(`stderr: ${clean(e.message)}`)]
    case "worker":
      return [s.dim(`worker: ${clean(e.message)}`)]
    case "retry": {
      const why = `${clean(e.errorClass ?? "error")}: ${clean(e.message ?? "")}`
      const delay = (e.delayMs / 1000).toFixed(1)
      return [s.yellow(`retry ${e.attempt}/${e.maxRetries} in ${delay} s: ${why}`)]
    }
    case "invocation_failed": {
      const cls = e.errorClass === undefined ? "" : ` (${clean(e.errorClass)})`
      const retry = e.retryable === true ? s.dim(" (will retry)") : ""
      return [s.red(`ERROR: codex failed${cls}: ${clean(e.message)}`) + retry]
    }
    case "notification": {
      const what = e.kind === "on_finish" ? "--on-finish" : "--webhook"
      const line = `notification ${what}: ${clean(e.message)}`
      const output = (e.output ?? "").trimEnd()
      return [
        e.ok ? s.dim(line) : s.yellow(line),
        ...(output === ""
          ? []
          : clean(output)
              .split("\n")
              .map((l) => s.dim(`  ${l}`))),
      ]
    }
    case "prompts_dropped": {
      const prompts = e.prompts.map((p) => `  - ${clean(p).replace(/\n/g, "\n    ")}`)
      return [s.yellow(dropped(e.count ?? prompts.length, e.reason)), ...prompts]
    }
  }
}
