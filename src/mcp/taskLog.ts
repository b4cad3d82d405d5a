import { statSync } from "node:fs"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Deferred, Duration, Effect, Schedule } from "effect"
import type * as z from "zod"
import { effectiveState, type TaskState } from "../domain/task.js"
import { makeStyle } from "../render/style.js"
import { groupDigits, makeTranscriptRenderer } from "../render/transcript.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { readLog } from "../tasks/logReader.js"
import { type Extra, type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import { LOG_PAGE_BYTES, readPage, tailStart } from "./logPage.js"
import { LogArgs, LogResult } from "./schemas.js"

type LogInput = z.infer<typeof LogArgs>

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** The task's effective state, read fresh. */
const stateOf = (store: TaskStore, loc: TaskLocation) =>
  Effect.gen(function* () {
    if (loc.archived) return "ARCHIVED" as TaskState
    const meta = yield* store.read(loc)
    return effectiveState(meta, yield* store.workerAlive(loc)).state
  })

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
 * Waits until the log has a line after `from` or the task stops running; false after `seconds`
 * without either. File watching, no polling (readLog's follow mode).
 */
const waitForEvents = (loc: TaskLocation, from: number, seconds: number, extra: Extra) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const running = stateOf(store, loc).pipe(
      Effect.map((s) => s === "RUNNING"),
      Effect.orElseSucceed(() => false),
    )
    const arrived = yield* Deferred.make<boolean>()
    const follow = readLog(
      store.logPath(loc),
      (lines) => (lines.length > 0 ? Deferred.succeed(arrived, true) : Effect.void),
      { fromOffset: from, follow: { done: Effect.map(running, (r) => !r) } },
    )
    yield* Effect.forkScoped(reportProgress(extra, loc.id, seconds))
    return yield* Effect.raceFirst(Deferred.await(arrived), Effect.as(follow, true)).pipe(
      Effect.timeoutTo({
        duration: Duration.seconds(seconds),
        onSuccess: (x) => x,
        onTimeout: () => false,
      }),
    )
  }).pipe(Effect.scoped)

/** The text standing for an event too large for one page (text format). */
const skippedNote = (skipped: { offset: number; size: number }, budget: number) =>
  `[event of ${groupDigits(skipped.size)} bytes at offset ${groupDigits(skipped.offset)} not shown: larger than a page (${groupDigits(budget)} bytes); read it with format: "jsonl"]\n`

/**
 * `task_log`: one page (at most `maxBytes` of log) of the transcript or the raw lines, optionally
 * only new ones, optionally waiting for them.
 */
const taskLog = (a: LogInput, extra: Extra) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(a.taskId, { includeArchived: true })
    const path = store.logPath(loc)
    let timedOut = false
    const wait = a.waitSeconds ?? 0
    if (wait > 0 && (yield* stateOf(store, loc)) === "RUNNING") {
      timedOut = !(yield* waitForEvents(loc, a.since ?? sizeOf(path), wait, extra))
    }
    const state = yield* stateOf(store, loc)
    // An unterminated last line is still being written while the task runs: leave it for later.
    const final = state !== "RUNNING"
    const format = a.format ?? "text"
    const budget = a.maxBytes ?? LOG_PAGE_BYTES
    // With `since`, `tail` applies to what came after it (without, the read starts at the tail).
    const fromTail = a.tail === undefined ? 0 : tailStart(path, a.tail, final)
    const start = a.since === undefined ? fromTail : Math.max(a.since, fromTail)
    const page = readPage(path, start, budget, {
      final,
      longLines: format === "jsonl" ? "split" : "skip",
    })
    let content = ""
    if (format === "jsonl") {
      content = page.lines.map((l) => `${l.toString("utf8")}\n`).join("")
      if (page.piece !== undefined) content += page.piece.toString("utf8")
    } else if (page.skipped !== undefined) content = skippedNote(page.skipped, budget)
    else {
      const renderer = makeTranscriptRenderer({ style: makeStyle(false), full: a.full === true })
      for (const l of page.lines) content += renderer.line(l.toString("utf8"))
      // Items still open at a page's end may complete on the next page.
      if (!page.hasMore) content += renderer.pending(final)
    }
    const structured = {
      id: loc.id,
      state,
      format,
      content,
      events: page.lines.length + (page.skipped === undefined ? 0 : 1),
      nextOffset: page.end,
      hasMore: page.hasMore,
      partialEvent: page.piece !== undefined,
      timedOut,
    }
    const notes = [
      ...(page.hasMore ? [`(more of the log: call again with since: ${page.end})`] : []),
      ...(timedOut ? [`(no new events within ${wait} s; task ${state})`] : []),
    ].join("\n")
    return {
      text: content === "" ? notes || `(no events; task ${state})` : `${content}${notes}`,
      structured,
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
