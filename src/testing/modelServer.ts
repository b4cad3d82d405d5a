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
 *   YIELD:<ms>            yield_time_ms for the following RUNs
 *   STATUS:<code>[:<error code>]  HTTP error with an OpenAI-style JSON body (alias HTTP)
 *   FAIL:<code>           in-stream response.failed
 *   HANG / DROP / TRUNCATE  stream never ends / socket destroyed mid-stream / no response.completed
 *   SLOW:<ms> / DELAY:<ms>  pause between SSE events / before answering
 *
 * A fault (STATUS, FAIL, HANG, DROP, TRUNCATE) applies to the response it is written in (the one
 * the next RUN/PLAN/PATCH ends, or the final one); a suffix
 * `x<N>` (`STATUS:500x2`, `DROP:x1`) limits it to the first N attempts of that request. The step is
 * derived from the request body (tool calls since the last user message), so concurrent codex
 * processes sharing one server do not interfere.
 */
import { randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"

/** Status of one step of an `update_plan` call. */
export type PlanStatus = "pending" | "in_progress" | "completed"

/** One step of an `update_plan` call. */
export interface PlanStep {
  readonly step: string
  readonly status: PlanStatus
}

/** One item of a scripted model response, in output order. */
export type OutputItem =
  | { readonly type: "message"; readonly text: string }
  | { readonly type: "reasoning"; readonly summary: ReadonlyArray<string> }
  | { readonly type: "web_search"; readonly query: string }
  | { readonly type: "exec"; readonly cmd: string; readonly yieldTimeMs?: number }
  | {
      readonly type: "plan"
      readonly plan: ReadonlyArray<PlanStep>
      readonly explanation?: string
    }
  | { readonly type: "patch"; readonly path: string; readonly content: string }

/** A way a scripted response misbehaves; `times` limits it to the first N requests (directives only). */
export type Fault =
  | {
      readonly type: "status"
      readonly status: number
      readonly code?: string
      readonly times?: number
    }
  | {
      readonly type: "fail"
      readonly code: string
      readonly message?: string
      readonly times?: number
    }
  | { readonly type: "hang"; readonly times?: number }
  | { readonly type: "drop"; readonly times?: number }
  | { readonly type: "truncate"; readonly times?: number }

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

/** One response of a parsed script: what one model request is answered with. */
interface Round {
  readonly output: ReadonlyArray<OutputItem>
  readonly faults: ReadonlyArray<Fault>
  readonly defaultReply: boolean
}

interface Script {
  readonly rounds: ReadonlyArray<Round>
  readonly delayMs: number
  readonly slowMs: number
}

const DEFAULT_PLAN = ["Inspect the workspace", "Make the change", "Verify the result"]
const DIRECTIVE = /^([A-Z]+)(?::(.*)|([x*]\d+))?$/
const TIMES = /^(.*?)(?:[x*](\d+))?$/
const isToolCall = (item: OutputItem) =>
  item.type === "exec" || item.type === "plan" || item.type === "patch"

const unescapeText = (text: string) =>
  text.replace(/\\([nt\\])/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : "\\"))

const splitTimes = (value: string): { readonly value: string; readonly times?: number } => {
  const m = TIMES.exec(value)
  const times = m?.[2]
  return times === undefined ? { value } : { value: m?.[1] ?? "", times: Number(times) }
}

const parsePlan = (value: string | undefined): ReadonlyArray<PlanStep> => {
  const raw = value === undefined || value.trim() === "" ? DEFAULT_PLAN : value.split("|")
  const steps = raw.map((s): { step: string; status: PlanStatus | undefined } => {
    const m = /^\s*\[([ x>])\]\s*(.*)$/.exec(s)
    if (!m) return { step: s.trim(), status: undefined }
    const status = m[1] === "x" ? "completed" : m[1] === ">" ? "in_progress" : "pending"
    return { step: (m[2] ?? "").trim(), status }
  })
  let active = steps.some((s) => s.status === "in_progress")
  return steps.map(({ step, status }) => {
    if (status !== undefined) return { step, status }
    if (active) return { step, status: "pending" }
    active = true
    return { step, status: "in_progress" }
  })
}

const parseFault = (name: string, value: string | undefined): Fault | undefined => {
  const { value: rest, times } = splitTimes(value ?? "")
  const limit = times === undefined ? {} : { times }
  switch (name) {
    case "STATUS":
    case "HTTP": {
      const m = /^(\d{3})(?::(\w+))?$/.exec(rest.trim())
      if (!m) return undefined
      return { type: "status", status: Number(m[1]), ...(m[2] ? { code: m[2] } : {}), ...limit }
    }
    case "FAIL":
      return { type: "fail", code: rest.trim() || "server_error", ...limit }
    case "HANG":
      return { type: "hang", ...limit }
    case "DROP":
      return { type: "drop", ...limit }
    case "TRUNCATE":
      return { type: "truncate", ...limit }
    default:
      return undefined
  }
}

/** Turns the directives of a prompt (one per line) into the responses of one turn. */
const parseScript = (prompt: string): Script => {
  const rounds: Array<Round> = []
  let output: Array<OutputItem> = []
  let faults: Array<Fault> = []
  let delayMs = 0
  let slowMs = 0
  let yieldTimeMs: number | undefined
  let silent = false
  const closeRound = () => {
    const defaultReply = !silent && !output.some((i) => i.type === "message" || isToolCall(i))
    rounds.push({ output, faults, defaultReply })
    output = []
    faults = []
    silent = false
  }
  for (const line of prompt.split(/\r?\n/)) {
    const m = DIRECTIVE.exec(line)
    if (!m) continue
    const name = m[1] ?? ""
    const value = m[2] ?? m[3]
    const fault = parseFault(name, value)
    if (fault) {
      faults.push(fault)
      continue
    }
    if (m[3] !== undefined) continue
    if ((name === "REPLY" || name === "PREAMBLE") && value !== undefined)
      output.push({ type: "message", text: value })
    else if (name === "SILENT") silent = true
    else if (name === "REASON" && value !== undefined)
      output.push({ type: "reasoning", summary: value.split("||").map((s) => s.trim()) })
    else if ((name === "WEB" || name === "SEARCH") && value !== undefined)
      output.push({ type: "web_search", query: value })
    else if (name === "SLOW" && value !== undefined) slowMs = Number(value) || 0
    else if (name === "DELAY" && value !== undefined) delayMs = Number(value) || 0
    else if (name === "YIELD" && value !== undefined) yieldTimeMs = Number(value) || undefined
    else if (name === "RUN" && value !== undefined) {
      output.push({ type: "exec", cmd: value, ...(yieldTimeMs ? { yieldTimeMs } : {}) })
      closeRound()
    } else if (name === "PLAN") {
      output.push({ type: "plan", plan: parsePlan(value) })
      closeRound()
    } else if (name === "PATCH" && value !== undefined) {
      const at = value.indexOf(":")
      const path = at < 0 ? value : value.slice(0, at)
      const content = at < 0 ? "created by mock PATCH" : unescapeText(value.slice(at + 1))
      output.push({ type: "patch", path, content })
      closeRound()
    }
  }
  const last = rounds[rounds.length - 1]
  if (output.length > 0 || faults.length > 0 || last === undefined || last.output.some(isToolCall))
    closeRound()
  return { rounds, delayMs, slowMs }
}

type Json = Record<string, unknown>
const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const inputOf = (body: unknown): ReadonlyArray<unknown> =>
  isRecord(body) && Array.isArray(body.input) ? body.input : []

const messageText = (item: Json): string => {
  const content = item.content
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join("")
}

const isUserMessage = (item: unknown): item is Json =>
  isRecord(item) && item.role === "user" && (item.type === undefined || item.type === "message")

/** Model turns already answered in the current user turn: tool calls after the last user message. */
const roundOf = (input: ReadonlyArray<unknown>): number => {
  let round = 0
  for (const item of input) {
    if (isUserMessage(item)) round = 0
    else if (
      isRecord(item) &&
      (item.type === "function_call" ||
        item.type === "custom_tool_call" ||
        item.type === "local_shell_call")
    )
      round++
  }
  return round
}

const ERRORS: Record<
  number,
  { readonly type: string; readonly code: string | null; readonly message: string }
> = {
  400: {
    type: "invalid_request_error",
    code: "invalid_request_error",
    message: "Invalid request (scripted by the mock model server).",
  },
  401: {
    type: "invalid_request_error",
    code: "invalid_api_key",
    message:
      "Incorrect API key provided: dummy. You can find your API key at https://platform.openai.com/account/api-keys.",
  },
  429: {
    type: "requests",
    code: "rate_limit_exceeded",
    message: "Rate limit reached for mock-model (scripted by the mock model server).",
  },
  404: {
    type: "invalid_request_error",
    code: null,
    message: "The mock model server only answers POST /v1/responses.",
  },
  500: {
    type: "server_error",
    code: null,
    message: "The server had an error while processing your request. Sorry about that!",
  },
}

const errorBody = (status: number, code: string | undefined) => {
  const known = ERRORS[status] ?? {
    type: status >= 500 ? "server_error" : "invalid_request_error",
    code: null,
    message: `Scripted HTTP ${status} from the mock model server.`,
  }
  const quota = code === "insufficient_quota"
  return {
    error: {
      message: quota
        ? "You exceeded your current quota, please check your plan and billing details."
        : known.message,
      type: quota ? "insufficient_quota" : known.type,
      param: null,
      code: code ?? known.code,
    },
  }
}

const ID_PREFIX: Record<OutputItem["type"], string> = {
  message: "msg",
  reasoning: "rs",
  web_search: "ws",
  exec: "fc",
  plan: "fc",
  patch: "fc",
}

const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4))
const words = (text: string): ReadonlyArray<string> => text.match(/\S+\s*|\s+/g) ?? [""]

interface Built {
  readonly events: ReadonlyArray<Json>
  readonly action: string
}

/** The SSE events of one complete response, `response.created` through `response.completed`. */
const buildEvents = (
  output: ReadonlyArray<OutputItem>,
  ids: { readonly response: string; readonly prefix: string },
  body: unknown,
): Built => {
  const events: Array<Json> = []
  const done: Array<Json> = []
  let outputChars = 0
  let reasoningChars = 0
  const model = isRecord(body) && typeof body.model === "string" ? body.model : "mock-model"
  const response = (status: string, extra: Json = {}) => ({
    id: ids.response,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output: status === "in_progress" ? [] : done,
    ...extra,
  })
  events.push({ type: "response.created", response: response("in_progress") })
  events.push({ type: "response.in_progress", response: response("in_progress") })
  output.forEach((item, output_index) => {
    const id = `${ID_PREFIX[item.type]}_${ids.prefix}_${output_index}`
    const added = (partial: Json) =>
      events.push({ type: "response.output_item.added", output_index, item: partial })
    const finish = (full: Json) => {
      done.push(full)
      events.push({ type: "response.output_item.done", output_index, item: full })
    }
    switch (item.type) {
      case "message": {
        outputChars += item.text.length
        const base = { id, type: "message", role: "assistant" }
        const part = { type: "output_text", text: "", annotations: [] }
        const full = { ...part, text: item.text }
        const at = { item_id: id, output_index, content_index: 0 }
        added({ ...base, status: "in_progress", content: [] })
        events.push({ type: "response.content_part.added", ...at, part })
        for (const delta of words(item.text))
          events.push({ type: "response.output_text.delta", ...at, delta })
        events.push({ type: "response.output_text.done", ...at, text: item.text })
        events.push({ type: "response.content_part.done", ...at, part: full })
        finish({ ...base, status: "completed", content: [full] })
        return
      }
      case "reasoning": {
        added({ id, type: "reasoning", summary: [] })
        item.summary.forEach((text, summary_index) => {
          reasoningChars += text.length
          const part = { type: "summary_text", text: "" }
          const at = { item_id: id, output_index, summary_index }
          events.push({ type: "response.reasoning_summary_part.added", ...at, part })
          for (const delta of words(text))
            events.push({ type: "response.reasoning_summary_text.delta", ...at, delta })
          events.push({ type: "response.reasoning_summary_text.done", ...at, text })
          events.push({
            type: "response.reasoning_summary_part.done",
            ...at,
            part: { ...part, text },
          })
        })
        finish({
          id,
          type: "reasoning",
          summary: item.summary.map((text) => ({ type: "summary_text", text })),
        })
        return
      }
      case "web_search": {
        const action = { type: "search", query: item.query }
        added({ id, type: "web_search_call", status: "in_progress", action })
        finish({ id, type: "web_search_call", status: "completed", action })
        return
      }
      default: {
        const { name, args } = toolCall(item)
        const callId = `call_${ids.prefix}_${output_index}`
        const base = { id, type: "function_call", call_id: callId, name }
        outputChars += args.length
        const at = { item_id: id, output_index }
        added({ ...base, status: "in_progress", arguments: "" })
        events.push({ type: "response.function_call_arguments.delta", ...at, delta: args })
        events.push({ type: "response.function_call_arguments.done", ...at, arguments: args })
        finish({ ...base, status: "completed", arguments: args })
      }
    }
  })
  const inputTokens = tokens(JSON.stringify(inputOf(body)).length)
  const outputTokens = tokens(outputChars + reasoningChars)
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningChars > 0 ? tokens(reasoningChars) : 0 },
    total_tokens: inputTokens + outputTokens,
  }
  events.push({ type: "response.completed", response: response("completed", { usage }) })
  const action = done
    .map((i) => (i.type === "function_call" ? `function_call:${i.name}` : i.type))
    .join(",")
  return { events, action }
}

const toolCall = (item: OutputItem): { readonly name: string; readonly args: string } => {
  switch (item.type) {
    case "exec":
      return {
        name: "exec_command",
        args: JSON.stringify({
          cmd: item.cmd,
          ...(item.yieldTimeMs === undefined ? {} : { yield_time_ms: item.yieldTimeMs }),
        }),
      }
    case "plan":
      return {
        name: "update_plan",
        args: JSON.stringify({
          ...(item.explanation ? { explanation: item.explanation } : {}),
          plan: item.plan,
        }),
      }
    case "patch": {
      const lines = item.content.replace(/\n$/, "").split("\n")
      const patch = [
        "*** Begin Patch",
        `*** Add File: ${item.path}`,
        ...lines.map((l) => `+${l}`),
        "*** End Patch",
      ]
      return {
        name: "exec_command",
        args: JSON.stringify({ cmd: `apply_patch <<'EOF'\n${patch.join("\n")}\nEOF` }),
      }
    }
    default:
      return { name: item.type, args: "{}" }
  }
}

const sse = (event: Json, sequence: number) =>
  `event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence })}\n\n`

/** Starts a scripted Responses API server on a random 127.0.0.1 port. */
export const startModelServer = async (options: ModelServerOptions = {}): Promise<ModelServer> => {
  const defaultReply =
    options.defaultReply ?? ((prompt, n) => `mock reply #${n} to: ${prompt.trim()}`)
  const nonce = randomBytes(3).toString("hex")
  const requests: Array<RecordedRequest & { action: string }> = []
  const queue: Array<ScriptStep> = []
  const faultHits = new Map<string, number>()
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

  /** The response for this request: the queue first, then the directives of the last user message. */
  const plan = (recorded: RecordedRequest) => {
    const queued = queue.shift()
    if (queued) {
      const output = queued.output ?? []
      const round: Round = {
        output,
        faults: queued.fault ? [queued.fault] : [],
        defaultReply: output.length === 0,
      }
      return {
        round,
        delayMs: queued.delayMs ?? 0,
        slowMs: queued.slowMs ?? 0,
        fault: queued.fault,
      }
    }
    const prompt = recorded.lastUserText ?? ""
    const script = parseScript(prompt)
    const input = inputOf(recorded.body)
    const index = roundOf(input)
    const round = script.rounds[index] ?? { output: [], faults: [], defaultReply: true }
    const conversation =
      isRecord(recorded.body) && typeof recorded.body.prompt_cache_key === "string"
        ? recorded.body.prompt_cache_key
        : ""
    const fault = round.faults.find((f, i) => {
      if (f.times === undefined) return true
      const key = `${conversation}\u0000${input.length}\u0000${index}\u0000${i}\u0000${prompt}`
      const hits = faultHits.get(key) ?? 0
      if (hits >= f.times) return false
      faultHits.set(key, hits + 1)
      return true
    })
    return { round, delayMs: script.delayMs, slowMs: script.slowMs, fault }
  }

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
    const { round, delayMs, slowMs, fault } = plan(recorded)
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
      res.end(JSON.stringify(errorBody(fault.status, fault.code)))
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

const failMessage = (code: string) =>
  code === "context_length_exceeded"
    ? "Your input exceeds the context window of this model. Please adjust your input and try again."
    : code === "insufficient_quota"
      ? "You exceeded your current quota, please check your plan and billing details."
      : "The server had an error while processing your request. Sorry about that!"
