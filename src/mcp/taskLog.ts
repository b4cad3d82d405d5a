import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect, Schedule } from "effect"
import type * as z from "zod"
import { pageText } from "../render/logPageText.js"
import { Tasks } from "../tasks/Tasks.js"
import { type Extra, type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import { LogArgs, LogResult } from "./schemas.js"

type LogInput = z.infer<typeof LogArgs>

/** Sends `notifications/progress` every second while waiting, if the client asked for progress. */
const reportProgress = (extra: Extra, id: string, total: number) => {
  const token = extra._meta?.progressToken
  if (token === undefined) return Effect.void
  const started = Date.now()
  const send = Effect.promise(() =>
    extra
      .sendNotification({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress: Math.round((Date.now() - started) / 100) / 10,
          total,
          message: `waiting for new events of task ${id}`,
        },
      })
      .catch(() => undefined),
  )
  return Effect.delay(send, "1 second").pipe(Effect.repeat(Schedule.spaced("1 second")))
}

/**
 * `task_log`: one page (at most `maxBytes` of log) of the transcript or the raw lines, optionally
 * only new ones, optionally waiting for them.
 */
const taskLog = (a: LogInput, extra: Extra) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const loc = yield* tasks.resolve(a.taskId, { includeArchived: true })
    const wait = a.waitSeconds ?? 0
    const page = yield* tasks.logWindow(loc, {
      format: a.format ?? "text",
      since: a.since,
      tail: a.tail,
      maxBytes: a.maxBytes,
      waitSeconds: wait,
      whileWaiting: Effect.asVoid(reportProgress(extra, loc.id, wait)),
    })
    const { page: bytes, budget, ...window } = page
    const content = pageText(bytes, {
      format: page.format,
      budget,
      final: page.state !== "RUNNING",
      full: a.full,
    })
    const notes = [
      ...(page.hasMore ? [`(more of the log: call again with since: ${page.nextOffset})`] : []),
      ...(page.timedOut ? [`(no new events within ${wait} s; task ${page.state})`] : []),
    ].join("\n")
    return {
      text: content === "" ? notes || `(no events; task ${page.state})` : `${content}${notes}`,
      structured: { ...window, content },
    } satisfies ToolAnswer
  })

/** Registers `task_log`. */
export const registerLogTool = (server: McpServer, ctx: McpContext): void => {
  server.registerTool(
    "task_log",
    {
      title: "Task transcript",
      description:
        "A task's transcript (text) or raw JSONL log, one page per call: at most `maxBytes` of log (default 256 KiB). `hasMore: true` means more is there now: call again with `since: nextOffset`. `tail` starts N events before the end; `since` (a previous nextOffset) returns only newer events; `waitSeconds` waits for new events while the task runs, with progress notifications. An event larger than a page comes in pieces in jsonl (`partialEvent: true`, content ends mid-line) and is replaced by a note in text.",
      inputSchema: LogArgs,
      outputSchema: LogResult,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, taskLog(args, extra)),
  )
}
