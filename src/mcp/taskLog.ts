import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Deferred, Duration, Effect, Schedule } from "effect"
import type * as z from "zod"
import { effectiveState, type TaskState } from "../domain/task.js"
import { makeStyle } from "../render/style.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { readLog, tailOffset } from "../tasks/logReader.js"
import { type Extra, type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import { LogArgs, LogResult } from "./schemas.js"

type LogInput = z.infer<typeof LogArgs>

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** Offset where the last `n` lines start (0 when the log does not exist). */
const startOfTail = (path: string, n: number) => {
  let fd: number | undefined
  try {
    fd = openSync(path, "r")
    return tailOffset(fd, fstatSync(fd).size, n, { bytesRead: 0 })
  } catch {
    return 0
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** True when the byte at `pos` is a newline (a line ending there is complete). */
const newlineAt = (path: string, pos: number) => {
  let fd: number | undefined
  try {
    fd = openSync(path, "r")
    const b = Buffer.alloc(1)
    return readSync(fd, b, 0, 1, pos) === 1 && b[0] === 0x0a
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
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

/** `task_log`: the transcript or raw lines, optionally only new ones, optionally waiting for them. */
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
    const start = a.since ?? (a.tail === undefined ? 0 : startOfTail(path, a.tail))
    const lines: Array<Buffer> = []
    yield* readLog(path, (ls) => Effect.sync(() => lines.push(...ls)), { fromOffset: start })
    const state = yield* stateOf(store, loc)
    let end = start + lines.reduce((n, l) => n + l.length + 1, 0)
    const last = lines.at(-1)
    // An unterminated last line is still being written while the task runs: leave it for later.
    if (last !== undefined && !newlineAt(path, end - 1)) {
      if (state === "RUNNING") {
        lines.pop()
        end -= last.length + 1
      } else end -= 1
    }
    // With `since`, `tail` applies to what came after it (without, the read started at the tail).
    const kept =
      a.since === undefined || a.tail === undefined
        ? lines
        : a.tail === 0
          ? []
          : lines.slice(-a.tail)
    const format = a.format ?? "text"
    let content = ""
    if (format === "jsonl") content = kept.map((l) => `${l.toString("utf8")}\n`).join("")
    else {
      const renderer = makeTranscriptRenderer({ style: makeStyle(false), full: a.full === true })
      for (const l of kept) content += renderer.line(l.toString("utf8"))
      content += renderer.pending(state !== "RUNNING")
    }
    const structured = {
      id: loc.id,
      state,
      format,
      content,
      events: kept.length,
      nextOffset: end,
      timedOut,
    }
    const note = timedOut ? `(no new events within ${wait} s; task ${state})` : ""
    return {
      text: content === "" ? note || `(no events; task ${state})` : `${content}${note}`,
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
        "A task's transcript (text) or raw JSONL log. `tail` keeps the last N events; `since` (a previous nextOffset) returns only newer events; `waitSeconds` waits for new events while the task runs, with progress notifications.",
      inputSchema: LogArgs,
      outputSchema: LogResult,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, taskLog(args, extra)),
  )
}
