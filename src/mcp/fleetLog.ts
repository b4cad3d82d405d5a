/**
 * `task_log` of `mcp --cluster`: a page of the task's `task.log` read from its host (one chunk,
 * complete lines), in the local tool's answer shape (taskLog.ts).
 */
import { Effect } from "effect"
import type * as z from "zod"
import { logChunkOf, resolveTask, statusOf } from "../cluster/client.js"
import { CHUNK_BYTES } from "../cluster/logChunk.js"
import { pageText } from "../render/logPageText.js"
import type { ToolAnswer } from "./bridge.js"
import type { LogArgs } from "./schemas.js"

const NEWLINE = 0x0a

/** `task_log` over the fleet: one chunk of the host's `task.log` (complete lines), as a page. */
export const fleetLog = (a: z.infer<typeof LogArgs>) =>
  Effect.gen(function* () {
    const task = yield* resolveTask(a.taskId)
    const format = a.format ?? "text"
    const wait = a.waitSeconds ?? 0
    const from = a.since ?? 0
    const chunk = yield* logChunkOf(
      task,
      from,
      wait * 1000,
      a.since === undefined ? a.tail : undefined,
    )
    const bytes = Buffer.from(chunk.bytes)
    const full = bytes.length >= CHUNK_BYTES
    const end = bytes.lastIndexOf(NEWLINE) + 1
    // A line longer than a chunk comes in pieces (jsonl), as the local tool does.
    const piece = end === 0 && full ? bytes : undefined
    const used = piece === undefined ? bytes.subarray(0, end) : piece
    const lines: Array<Buffer> = []
    for (
      let s = 0, i = used.indexOf(NEWLINE);
      piece === undefined && i !== -1;
      i = used.indexOf(NEWLINE, s)
    ) {
      lines.push(used.subarray(s, i))
      s = i + 1
    }
    const state = chunk.running ? "RUNNING" : (yield* statusOf(task)).state
    const hasMore = full
    const content = pageText(piece === undefined ? { lines, hasMore } : { lines, piece, hasMore }, {
      format,
      budget: CHUNK_BYTES,
      final: !chunk.running,
      full: a.full,
    })
    const timedOut = wait > 0 && bytes.length === 0
    const nextOffset = chunk.next - bytes.length + used.length
    const notes = [
      ...(hasMore ? [`(more of the log: call again with since: ${nextOffset})`] : []),
      ...(timedOut ? [`(no new events within ${wait} s; task ${state})`] : []),
    ].join("\n")
    return {
      text: content === "" ? notes || `(no events; task ${state})` : `${content}${notes}`,
      structured: {
        id: task.id,
        state,
        format,
        content,
        events: lines.length,
        nextOffset,
        hasMore,
        partialEvent: piece !== undefined,
        timedOut,
      },
    } satisfies ToolAnswer
  })
