import type { OutputItem } from "./modelScript.js"
import { inputOf, isRecord, type Json } from "./modelScript.js"

// Server-sent events of the Responses API: what codex reads from `POST /v1/responses`.

export const ERRORS: Record<
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

/** The JSON body of a scripted HTTP error; `usage_limit_reached` carries its reset time. */
export const errorBody = (
  status: number,
  code: string | undefined,
  resetsInSeconds?: number | undefined,
) => {
  if (code === "usage_limit_reached") {
    const seconds = resetsInSeconds ?? 3_600
    return {
      error: {
        type: "usage_limit_reached",
        message: "The usage limit has been reached",
        plan_type: "plus",
        resets_at: Math.floor(Date.now() / 1_000) + seconds,
        resets_in_seconds: seconds,
      },
    }
  }
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

export const ID_PREFIX: Record<OutputItem["type"], string> = {
  message: "msg",
  reasoning: "rs",
  web_search: "ws",
  exec: "fc",
  plan: "fc",
  patch: "fc",
  call: "fc",
}

export const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4))
export const words = (text: string): ReadonlyArray<string> => text.match(/\S+\s*|\s+/g) ?? [""]

export interface Built {
  readonly events: ReadonlyArray<Json>
  readonly action: string
}

/** The SSE events of one complete response, `response.created` through `response.completed`. */
export const buildEvents = (
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

export const toolCall = (item: OutputItem): { readonly name: string; readonly args: string } => {
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
    case "call":
      return { name: item.name, args: item.args }
    default:
      return { name: item.type, args: "{}" }
  }
}

export const sse = (event: Json, sequence: number) =>
  `event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence })}\n\n`

export const failMessage = (code: string) =>
  code === "context_length_exceeded"
    ? "Your input exceeds the context window of this model. Please adjust your input and try again."
    : code === "insufficient_quota"
      ? "You exceeded your current quota, please check your plan and billing details."
      : "The server had an error while processing your request. Sorry about that!"
