/**
 * The live channel: one WebSocket per tab carrying `{topic, seq, data}` messages. A tab
 * subscribes to `board` (numbered deltas after a snapshot, board.ts) and to `log:ID` (a task's
 * transcript as `log` renders it, numbered by log byte offset); after a reconnect it subscribes
 * again with the last `seq` it saw and gets what it missed, nothing twice.
 */
import { closeSync, fstatSync, openSync } from "node:fs"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, FiberMap, Queue, Schema } from "effect"
import { renderLogLine } from "../render/longLine.js"
import { makeStyle } from "../render/style.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import { TaskStore } from "../store/TaskStore.js"
import { readLog, tailOffset } from "../tasks/logReader.js"
import type { RowFeed } from "./board.js"

/** How many log lines a new transcript subscription starts with (the page is not a log archive). */
export const TRANSCRIPT_TAIL_LINES = 400

const plain = makeStyle(false)

const ClientMessage = Schema.Struct({
  op: Schema.Literal("subscribe", "unsubscribe"),
  topic: Schema.String,
  after: Schema.optional(Schema.Number),
  epoch: Schema.optional(Schema.String),
})
const decodeClientMessage = Schema.decodeUnknownOption(Schema.parseJson(ClientMessage))

const startOffset = (path: string) => {
  try {
    const fd = openSync(path, "r")
    try {
      return tailOffset(fd, fstatSync(fd).size, TRANSCRIPT_TAIL_LINES, { bytesRead: 0 })
    } finally {
      closeSync(fd)
    }
  } catch {
    return 0
  }
}

/** Follows task `ref`'s transcript from byte `after` (or its last lines), sending each piece. */
export type FollowLog<R> = (
  topic: string,
  ref: string,
  after: number | undefined,
  send: (message: unknown) => Effect.Effect<void>,
) => Effect.Effect<void, never, R>

/** What the live channel serves from. */
export interface LiveContext<R> {
  readonly board: Pick<RowFeed, "subscribe">
  /** Tells a page whether its numbers are this server's (a restarted server starts again). */
  readonly epoch: string
  readonly maxRunning: number | undefined
  /** A fleet's server (`serve --cluster`): rows carry their host, the page shows a Host column. */
  readonly fleet: boolean
  readonly followLog: FollowLog<R>
}

/** The local `FollowLog`: the task's `task.log` in this machine's store, read as it grows. */
export const followStoreLog: FollowLog<TaskStore> = (
  topic: string,
  ref: string,
  after: number | undefined,
  send: (message: unknown) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(ref, { includeArchived: true })
    const path = store.logPath(loc)
    let offset = after ?? startOffset(path)
    const renderer = makeTranscriptRenderer({ style: plain })
    yield* send({ topic, seq: offset, data: { from: offset, text: "" } })
    yield* readLog(
      path,
      (lines) => {
        const from = offset
        let text = ""
        for (const l of lines) {
          offset += l.length + 1
          const shown = renderLogLine(renderer, l, loc.id)
          if (shown !== "") text += shown.endsWith("\n") ? shown : `${shown}\n`
        }
        return send({ topic, seq: offset, data: { from, text } })
      },
      { fromOffset: offset, follow: { done: Effect.succeed(false) } },
    )
  }).pipe(
    Effect.catchAll((e) =>
      send({ topic, seq: 0, data: { error: "message" in e ? e.message : String(e) } }),
    ),
  )

/** The `/live` route: upgrades to a WebSocket and serves subscriptions until it closes. */
export const liveSocket = <R>(live: LiveContext<R>) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    const write = yield* socket.writer
    const outbox = yield* Queue.unbounded<string>()
    const send = (message: unknown) => outbox.offer(JSON.stringify(message))
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(outbox.take, (text) => write(text))).pipe(Effect.ignore),
    )
    const topics = yield* FiberMap.make<string>()
    let unsubscribeBoard: (() => void) | undefined
    yield* Effect.addFinalizer(() => Effect.sync(() => unsubscribeBoard?.()))
    yield* send({
      topic: "hello",
      seq: 0,
      data: {
        epoch: live.epoch,
        max_running: live.maxRunning ?? null,
        ...(live.fleet ? { fleet: true } : {}),
      },
    })
    const onMessage = (raw: string | Uint8Array) =>
      Effect.gen(function* () {
        const text = typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8")
        const parsed = decodeClientMessage(text)
        if (parsed._tag === "None") return
        const m = parsed.value
        if (m.topic === "board") {
          unsubscribeBoard?.()
          unsubscribeBoard = undefined
          if (m.op === "unsubscribe") return
          const after = m.epoch === live.epoch ? m.after : undefined
          unsubscribeBoard = live.board.subscribe(after, (b) =>
            outbox.unsafeOffer(`{"topic":"board","seq":${b.seq},"data":${b.json}}`),
          )
        } else if (m.topic.startsWith("log:")) {
          if (m.op === "unsubscribe") return yield* FiberMap.remove(topics, m.topic)
          yield* FiberMap.run(
            topics,
            m.topic,
            live.followLog(m.topic, m.topic.slice(4), m.after, send),
          )
        }
      })
    yield* socket.runRaw(onMessage).pipe(Effect.ignore)
    return HttpServerResponse.empty()
  }).pipe(Effect.scoped)
