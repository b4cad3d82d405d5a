/**
 * The live side of `serve --cluster`: the board fed by polling the fleet's task snapshots in
 * PostgreSQL (one query a second; the runners write them), and a task's transcript followed on
 * its host in log chunks, byte-exact, as `log -f --cluster` reads it. Both go out as the local
 * server's live messages (live.ts), so the page is the same.
 */
import { Effect, Schedule } from "effect"
import type { Placed } from "../cluster/client.js"
import { tokensUsed } from "../domain/policy.js"
import type { TaskJson } from "../domain/wire.js"
import { renderLogLine } from "../render/longLine.js"
import { makeStyle } from "../render/style.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import { type BoardRow, makeRowFeed, type RowFeed } from "./board.js"
import type { FleetOps } from "./fleetApi.js"
import { type FollowLog, TRANSCRIPT_TAIL_LINES } from "./live.js"

/** How often the board reads the fleet's snapshots again. */
export const FLEET_POLL_MS = 1_000
/** How long one log request waits on the host for new bytes while the task runs. */
const FOLLOW_WAIT_MS = 5_000
/** How long the follower rests when the task does not run (the host answers at once then). */
const IDLE_MS = 1_000
/** How often a follow that lost its host asks again (it resumes where it stopped). */
const HOST_RETRY_MS = 5_000
const NEWLINE = 0x0a
const plain = makeStyle(false)

/** A fleet task as a board row: what the snapshot has (its host included); the rest unknown. */
export const fleetRowOf = (t: TaskJson): BoardRow => ({
  ...t,
  branch: null,
  changed_files: null,
  activity: null,
  tokens_used: t.usage === null ? null : tokensUsed(t.usage),
  token_budget: null,
})

/**
 * The fleet's board: a feed of every host's tasks, with `refresh` (one poll: publishes what
 * changed) and `keepFresh` (polls every `everyMs` for the rest of the scope; a failed poll keeps
 * the rows shown).
 */
export const makeFleetBoard = (ops: FleetOps) => {
  const feed: RowFeed = makeRowFeed()
  const refresh = Effect.map(Effect.suspend(ops.list), (tasks) => {
    feed.update(tasks.map(fleetRowOf), true)
  })
  const keepFresh = (everyMs: number) =>
    Effect.forever(Effect.zipRight(Effect.sleep(everyMs), Effect.ignore(refresh)))
  return { feed, refresh, keepFresh }
}

/** True for a host that did not answer or has no live runner (not for a refused request). */
const hostTrouble = (e: unknown) =>
  typeof e === "object" &&
  e !== null &&
  "_tag" in e &&
  e._tag === "FleetError" &&
  (e as { usage?: unknown }).usage !== true

/**
 * Follows a fleet task's transcript: from byte `after`, else from its last lines, one message per
 * chunk of complete lines (`seq`: the log offset after them, where a resume starts), for as long
 * as the page wants it. A failure before the first chunk (unknown task, host unreachable) is sent
 * as the topic's error; a host lost later is asked again every `retryMs` (the board shows it
 * unreachable meanwhile), and the follow goes on from where it stopped.
 */
export const followFleetLog =
  (
    ops: FleetOps,
    redact: (text: string) => string = (t) => t,
    retryMs = HOST_RETRY_MS,
  ): FollowLog<never> =>
  (topic, ref, after, send) =>
    Effect.gen(function* () {
      const task: Placed = yield* ops.resolve(ref)
      const renderer = makeTranscriptRenderer({ style: plain })
      let readAt = after ?? 0
      let lineStart = readAt
      let partial: Buffer = Buffer.alloc(0)
      let first = true
      for (;;) {
        const tail = first && after === undefined ? TRANSCRIPT_TAIL_LINES : undefined
        const ask = ops.logChunk(task, readAt, first ? 0 : FOLLOW_WAIT_MS, tail)
        const chunk = yield* first
          ? ask
          : Effect.retry(ask, { while: hostTrouble, schedule: Schedule.spaced(retryMs) })
        if (first) lineStart = chunk.next - chunk.bytes.length
        readAt = chunk.next
        const data =
          partial.length === 0
            ? Buffer.from(chunk.bytes)
            : Buffer.concat([partial, Buffer.from(chunk.bytes)])
        const end = data.lastIndexOf(NEWLINE) + 1
        let text = ""
        for (
          let s = 0, i = data.indexOf(NEWLINE);
          i !== -1 && i < end;
          i = data.indexOf(NEWLINE, s)
        ) {
          const shown = renderLogLine(renderer, data.subarray(s, i), task.id)
          if (shown !== "") text += shown.endsWith("\n") ? shown : `${shown}\n`
          s = i + 1
        }
        partial = Buffer.from(data.subarray(end))
        const from = lineStart
        lineStart += end
        if (first || end > 0) yield* send({ topic, seq: lineStart, data: { from, text } })
        first = false
        if (chunk.bytes.length === 0 && !chunk.running) yield* Effect.sleep(IDLE_MS)
      }
    }).pipe(
      Effect.catchAll((e) =>
        send({
          topic,
          seq: 0,
          data: {
            error: redact(
              typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e),
            ),
          },
        }),
      ),
    )
