// The scripted model's language: directives in a prompt → the responses of one turn, and how far
// into that turn a request is (from the request body alone, so concurrent codex runs never mix).
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
  | { readonly type: "call"; readonly name: string; readonly args: string }

/**
 * A way a scripted response misbehaves; `times` limits it to the first N requests (directives
 * only): of that exact request (`x<N>`), or with `scope: "prompt"` (`~<N>`) of any request
 * carrying the prompt, so a resumed retry of the same prompt gets past it.
 */
export type Fault = (
  | {
      readonly type: "status"
      readonly status: number
      readonly code?: string
      /** `resets_in_seconds` of a `usage_limit_reached` body (directive `RESET:<s>`). */
      readonly resetsInSeconds?: number
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
) & { readonly scope?: "prompt" }

/** One response of a parsed script: what one model request is answered with. */
export interface Round {
  readonly output: ReadonlyArray<OutputItem>
  readonly faults: ReadonlyArray<Fault>
  readonly defaultReply: boolean
}

export interface Script {
  readonly rounds: ReadonlyArray<Round>
  readonly delayMs: number
  readonly slowMs: number
  /** `RESET:<s>`: `resets_in_seconds` of a `usage_limit_reached` error. */
  readonly resetSeconds?: number
}

export const DEFAULT_PLAN = ["Inspect the workspace", "Make the change", "Verify the result"]
export const DIRECTIVE = /^([A-Z]+)(?::(.*)|([x*~]\d+))?$/
export const TIMES = /^(.*?)(?:([x*~])(\d+))?$/
export const isToolCall = (item: OutputItem) =>
  item.type === "exec" || item.type === "plan" || item.type === "patch" || item.type === "call"

export const unescapeText = (text: string) =>
  text.replace(/\\([nt\\])/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : "\\"))

export const splitTimes = (
  value: string,
): { readonly value: string; readonly times?: number; readonly scope?: "prompt" } => {
  if (value.trim() === "first") return { value: "", times: 1, scope: "prompt" }
  const m = TIMES.exec(value)
  const times = m?.[3]
  if (times === undefined) return { value }
  return {
    value: m?.[1] ?? "",
    times: Number(times),
    ...(m?.[2] === "~" ? { scope: "prompt" as const } : {}),
  }
}

export const parsePlan = (value: string | undefined): ReadonlyArray<PlanStep> => {
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

export const parseFault = (name: string, value: string | undefined): Fault | undefined => {
  const { value: rest, times, scope } = splitTimes(value ?? "")
  const limit = {
    ...(times === undefined ? {} : { times }),
    ...(scope === undefined ? {} : { scope }),
  }
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
export const parseScript = (prompt: string): Script => {
  const rounds: Array<Round> = []
  let output: Array<OutputItem> = []
  let faults: Array<Fault> = []
  let delayMs = 0
  let slowMs = 0
  let resetSeconds: number | undefined
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
    else if (name === "RESET" && value !== undefined) resetSeconds = Number(value) || 0
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
    } else if (name === "CALL" && value !== undefined) {
      const at = value.indexOf(":")
      const tool = at < 0 ? value : value.slice(0, at)
      output.push({ type: "call", name: tool, args: at < 0 ? "{}" : value.slice(at + 1) })
      closeRound()
    }
  }
  const last = rounds[rounds.length - 1]
  if (output.length > 0 || faults.length > 0 || last === undefined || last.output.some(isToolCall))
    closeRound()
  return { rounds, delayMs, slowMs, ...(resetSeconds === undefined ? {} : { resetSeconds }) }
}

export type Json = Record<string, unknown>
export const isRecord = (u: unknown): u is Json =>
  typeof u === "object" && u !== null && !Array.isArray(u)
export const inputOf = (body: unknown): ReadonlyArray<unknown> =>
  isRecord(body) && Array.isArray(body.input) ? body.input : []

export const messageText = (item: Json): string => {
  const content = item.content
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join("")
}

export const isUserMessage = (item: unknown): item is Json =>
  isRecord(item) && item.role === "user" && (item.type === undefined || item.type === "message")

/** Model turns already answered in the current user turn: tool calls after the last user message. */
export const roundOf = (input: ReadonlyArray<unknown>): number => {
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
