/**
 * A scripted stand-in for the OpenAI Responses API (`POST /v1/responses`, SSE) that the real
 * `codex exec` runs against. Each request is answered by the next `enqueue`d step or else by the
 * directives in the last user message, one per line (other lines are ignored):
 *
 *   REPLY:<text>          assistant message (default: `mock reply #<n> to: <prompt>`); before a
 *                         RUN/PLAN/PATCH it is a preamble in the same response
 *   SILENT                no default message in the final response
 *   REASON:<a> || <b>     reasoning item with summary parts, before what follows
 *   WEB:<query>           web_search_call item
 *   RUN:<command>         exec_command call; the next request (with its output) continues the script
 *   PLAN[:<a>|[x] <b>]    update_plan call ([x] done, [>] active, [ ] pending; first bare step active)
 *   PATCH:<path>[:<text>] exec_command `apply_patch` heredoc adding a file (`\n` in text = newline)
 *   CALL:<tool>[:<json>]  a call of any tool codex offers, with these arguments (default `{}`)
 *   YIELD:<ms>            yield_time_ms for the following RUNs
 *   STATUS:<code>[:<error code>]  HTTP error with an OpenAI-style JSON body (alias HTTP);
 *                         `HTTP:429:usage_limit_reached` is a ChatGPT usage limit (RESET:<s> sets
 *                         its `resets_in_seconds`, default 3600)
 *   FAIL:<code>           in-stream response.failed
 *   HANG / DROP / TRUNCATE  stream never ends / socket destroyed mid-stream / no response.completed
 *   SLOW:<ms> / DELAY:<ms>  pause between SSE events / before answering
 *
 * A fault (STATUS, FAIL, HANG, DROP, TRUNCATE) applies to the response it is written in (the one
 * the next RUN/PLAN/PATCH ends, or the final one); a suffix
 * `x<N>` (`STATUS:500x2`, `DROP:x1`) limits it to the first N attempts of that request; `~<N>`
 * (`HANG:~1`, alias `HANG:first`) to the first N requests carrying the prompt at all, so a retry
 * that resumes the thread (a longer request) gets past it. The step is
 * derived from the request body (tool calls since the last user message), so concurrent codex
 * processes sharing one server do not interfere.
 */
import { randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { makePlanner } from "./modelPlan.js"
import {
  type Fault,
  inputOf,
  isUserMessage,
  type Json,
  messageText,
  type OutputItem,
} from "./modelScript.js"
import { buildEvents, errorBody, failMessage, sse } from "./modelSse.js"

export type { Fault, OutputItem, PlanStatus, PlanStep } from "./modelScript.js"

/** One scripted model response; without `output` (and without a fault) it is the default reply. */
export interface ScriptStep {
  readonly output?: ReadonlyArray<OutputItem>
  readonly fault?: Fault
  readonly delayMs?: number
  readonly slowMs?: number
}

/** One HTTP request the server received, with its parsed JSON body. */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly body: unknown
  readonly userTexts: ReadonlyArray<string>
  readonly lastUserText: string | undefined
  readonly receivedAt: number
  /** What the server answered, e.g. `message`, `function_call:exec_command`, `status:500`, `hang`. */
  readonly action: string
}

/** A scripted OpenAI-Responses-compatible model server on 127.0.0.1. */
export interface ModelServer {
  readonly url: string
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Queue responses consumed one per model request, before prompt directives are consulted. */
  enqueue(...steps: ReadonlyArray<ScriptStep>): void
  /** Resolves once `n` requests were received; rejects after `timeoutMs` (default 10 s). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>
  /** Stops listening and destroys every open or hanging connection. */
  close(): Promise<void>
}

/** Options of `startModelServer`. */
export interface ModelServerOptions {
  readonly defaultReply?: (prompt: string, n: number) => string
}

/** Starts a scripted Responses API server on a random 127.0.0.1 port. */
export const startModelServer = async (options: ModelServerOptions = {}): Promise<ModelServer> => {
  const defaultReply =
    options.defaultReply ?? ((prompt, n) => `mock reply #${n} to: ${prompt.trim()}`)
  const nonce = randomBytes(3).toString("hex")
  const requests: Array<RecordedRequest & { action: string }> = []
  const queue: Array<ScriptStep> = []
  const sockets = new Set<Socket>()
  const waiters = new Set<() => void>()
  const stopping = new Set<() => void>()
  let closed = false

  /** Sleeps, waking early when the server closes or the client goes away. */
  const sleep = (ms: number, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      if (closed || res.destroyed) return resolve()
      const wake = () => {
        clearTimeout(timer)
        stopping.delete(wake)
        res.off("close", wake)
        resolve()
      }
      const timer = ms === Number.POSITIVE_INFINITY ? undefined : setTimeout(wake, ms)
      stopping.add(wake)
      res.on("close", wake)
    })

  const write = async (res: ServerResponse, events: ReadonlyArray<Json>, slowMs: number) => {
    let sequence = 0
    for (const event of events) {
      if (closed || res.destroyed) return
      if (sequence > 0 && slowMs > 0) await sleep(slowMs, res)
      if (closed || res.destroyed) return
      res.write(sse(event, sequence++))
    }
  }

  const plan = makePlanner(queue)

  const respond = async (
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest & { action: string },
    seq: number,
  ) => {
    const requestId = `req_mock_${seq}`
    if (req.method !== "POST" || !/\/responses$/.test(recorded.path)) {
      recorded.action = "not_found"
      res.writeHead(404, { "content-type": "application/json", "x-request-id": requestId })
      res.end(JSON.stringify(errorBody(404, undefined)))
      return
    }
    const { round, delayMs, slowMs, fault, reset } = plan(recorded)
    const output: ReadonlyArray<OutputItem> = round.defaultReply
      ? [...round.output, { type: "message", text: defaultReply(recorded.lastUserText ?? "", seq) }]
      : round.output
    const prefix = `${nonce}_${seq}`
    const built = buildEvents(output, { response: `resp_${prefix}`, prefix }, recorded.body)
    if (delayMs > 0) await sleep(delayMs, res)
    if (closed || res.destroyed) return
    if (fault?.type === "status") {
      recorded.action = `status:${fault.status}`
      res.writeHead(fault.status, { "content-type": "application/json", "x-request-id": requestId })
      res.end(JSON.stringify(errorBody(fault.status, fault.code, fault.resetsInSeconds ?? reset)))
      return
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-request-id": requestId,
    })
    const events = built.events
    switch (fault?.type) {
      case "hang":
        recorded.action = "hang"
        await write(res, events.slice(0, 2), slowMs)
        await sleep(Number.POSITIVE_INFINITY, res)
        return
      case "drop": {
        recorded.action = "drop"
        const cut = events.findIndex((e) => e.type === "response.output_item.done")
        await write(res, events.slice(0, Math.max(3, cut)), slowMs)
        res.destroy()
        return
      }
      case "truncate":
        recorded.action = "truncate"
        await write(res, events.slice(0, -1), slowMs)
        res.end()
        return
      case "fail": {
        recorded.action = "fail"
        const failed = {
          type: "response.failed",
          response: {
            id: `resp_${prefix}`,
            object: "response",
            status: "failed",
            error: { code: fault.code, message: fault.message ?? failMessage(fault.code) },
          },
        }
        await write(res, [...events.slice(0, 2), failed], slowMs)
        res.end()
        return
      }
      default:
        recorded.action = built.action
        await write(res, events, slowMs)
        res.end()
    }
  }

  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      let body: unknown = raw
      try {
        body = raw === "" ? undefined : JSON.parse(raw)
      } catch {
        body = raw
      }
      const userTexts = inputOf(body).filter(isUserMessage).map(messageText)
      const recorded = {
        method: req.method ?? "GET",
        path: (req.url ?? "/").split("?")[0] ?? "/",
        body,
        userTexts,
        lastUserText: userTexts[userTexts.length - 1],
        receivedAt: Date.now(),
        action: "pending",
      }
      requests.push(recorded)
      for (const wake of [...waiters]) wake()
      respond(req, res, recorded, requests.length).catch(() => res.destroy())
    })
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...steps) => {
      queue.push(...steps)
    },
    waitForRequests: (n, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.length >= n) return resolve()
        const check = () => {
          if (requests.length < n) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve()
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(
            new Error(
              `expected ${n} model requests within ${timeoutMs} ms, got ${requests.length}`,
            ),
          )
        }, timeoutMs)
        waiters.add(check)
      }),
    close: () =>
      new Promise<void>((resolve) => {
        closed = true
        for (const wake of [...stopping]) wake()
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
