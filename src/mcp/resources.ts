import { statSync } from "node:fs"
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js"
import {
  ErrorCode,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js"
import { Effect } from "effect"
import { makeStyle } from "../render/style.js"
import { groupDigits, makeTranscriptRenderer } from "../render/transcript.js"
import { TaskStore } from "../store/TaskStore.js"
import { LOG_PAGE_BYTES, lastPageStart, readPage, tailStart } from "../tasks/logPage.js"
import { viewJson, viewOf } from "../tasks/view.js"
import { type McpContext, runRead } from "./bridge.js"
import type { Fingerprint, StoreWatcher } from "./watcher.js"

/** Events the log resource shows at most (the last ones, within 256 KiB of log; `task_log` reads any part). */
export const LOG_RESOURCE_EVENTS = 500

/** JSON-RPC "resource not found" (MCP). */
const RESOURCE_NOT_FOUND = -32002

/** A JSON-RPC error answer (the SDK sends `code` and `message` as they are). */
class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

const URI = /^task:\/\/([^/]+)\/(status|log)$/

/** `task://<id>/status` or `task://<id>/log` → its parts. */
export const parseTaskUri = (uri: string) => {
  const m = URI.exec(uri)
  return m === null ? undefined : { id: m[1] as string, kind: m[2] as "status" | "log" }
}

const parsedOrFail = (uri: string) => {
  const parsed = parseTaskUri(uri)
  if (parsed === undefined) {
    throw new ProtocolError(ErrorCode.InvalidParams, `Not a task resource: ${uri}`)
  }
  return parsed
}

const locate = (id: string) =>
  Effect.flatMap(TaskStore, (store) => store.resolve(id, { includeArchived: true }))

const statusJson = (id: string) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* locate(id)
    return viewJson(yield* viewOf(store, loc, yield* store.read(loc)))
  })

/** The transcript of the last events that fit in one page of the log (at most 500). */
const transcriptTail = (id: string) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* locate(id)
    const path = store.logPath(loc)
    const start = Math.max(
      tailStart(path, LOG_RESOURCE_EVENTS, false),
      lastPageStart(path, LOG_PAGE_BYTES),
    )
    const page = readPage(path, start, LOG_PAGE_BYTES, { final: false, longLines: "skip" })
    if (page.skipped !== undefined) {
      return `[the last event, ${groupDigits(page.skipped.size)} bytes, is larger than this resource shows; task_log with format "jsonl" reads it]\n`
    }
    const renderer = makeTranscriptRenderer({ style: makeStyle(false) })
    return page.lines.map((l) => renderer.line(l.toString("utf8"))).join("")
  })

const missing: Fingerprint = { value: "missing", holds: "until-root-changes" }

const readOrNotFound = async <A>(ctx: McpContext, program: Effect.Effect<A, unknown, TaskStore>) =>
  runRead(ctx, program).catch((e: Error) => {
    throw new ProtocolError(RESOURCE_NOT_FOUND, e.message)
  })

/** What the watcher asks of the store: listed ids, directories and fingerprints. */
export const resourceProbes = (ctx: McpContext) => ({
  listIds: () =>
    runRead(
      ctx,
      Effect.map(
        Effect.flatMap(TaskStore, (s) => s.list({ includeArchived: false })),
        (rows) => rows.map((r) => r.loc.id as string),
      ),
    ),
  dirOf: (uri: string) => {
    const parsed = parseTaskUri(uri)
    return parsed === undefined
      ? Promise.resolve(undefined)
      : runRead(
          ctx,
          Effect.map(locate(parsed.id), (loc) => loc.dir),
        )
  },
  fingerprint: (uri: string): Promise<Fingerprint> => {
    const { id, kind } = parsedOrFail(uri)
    const program = Effect.gen(function* () {
      const store = yield* TaskStore
      const loc = yield* locate(id)
      const value =
        kind === "status"
          ? JSON.stringify(viewJson(yield* viewOf(store, loc, yield* store.read(loc))))
          : `${loc.dir}:${sizeOf(store.logPath(loc))}`
      // An archived task no longer changes (a prefix could come to match another task).
      return loc.archived && loc.id === id ? { value, holds: "forever" as const } : { value }
    }).pipe(
      // No such task: one can only appear with a new entry in the store root.
      Effect.catchTags({
        TaskNotFound: () => Effect.succeed(missing),
        InvalidTaskId: () => Effect.succeed(missing),
      }),
    )
    return runRead(ctx, program).catch(() => ({ value: "unreadable" }))
  },
})

/** Registers the task resources (listed, readable, subscribable) backed by `watcher`. */
export const registerResources = (
  server: McpServer,
  ctx: McpContext,
  watcher: StoreWatcher,
): void => {
  const listOf = (kind: "status" | "log") => async () => {
    const rows = await runRead(
      ctx,
      Effect.flatMap(TaskStore, (s) => s.list({ includeArchived: false })),
    )
    return {
      resources: rows.map((r) => ({
        uri: `task://${r.loc.id}/${kind}`,
        name: `${"meta" in r && r.meta.title !== undefined ? r.meta.title : r.loc.id} (${kind})`,
      })),
    }
  }
  server.registerResource(
    "task-status",
    new ResourceTemplate("task://{id}/status", { list: listOf("status") }),
    {
      title: "Task status",
      description: "The task object of task_status, as JSON.",
      mimeType: "application/json",
    },
    async (uri) => {
      const { id } = parsedOrFail(uri.href)
      const json = await readOrNotFound(ctx, statusJson(id))
      return {
        contents: [
          { uri: uri.href, mimeType: "application/json", text: JSON.stringify(json, null, 2) },
        ],
      }
    },
  )
  server.registerResource(
    "task-log",
    new ResourceTemplate("task://{id}/log", { list: listOf("log") }),
    {
      title: "Task transcript",
      description: `The last ${LOG_RESOURCE_EVENTS} events of the task's transcript, as many as fit in the last 256 KiB of the log (task_log reads more).`,
      mimeType: "text/plain",
    },
    async (uri) => {
      const { id } = parsedOrFail(uri.href)
      const text = await readOrNotFound(ctx, transcriptTail(id))
      return { contents: [{ uri: uri.href, mimeType: "text/plain", text }] }
    },
  )
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    parsedOrFail(request.params.uri)
    await watcher.subscribe(request.params.uri)
    return {}
  })
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    watcher.unsubscribe(request.params.uri)
    return {}
  })
}
