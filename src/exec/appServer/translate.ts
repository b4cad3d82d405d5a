/**
 * `codex app-server` notifications → the events `codex exec --json` prints (`domain/events.ts`),
 * so the task log of an app-server task reads exactly like an exec task's. Pure: one translator
 * per turn, fed every notification of that turn in order. Notifications this file does not know
 * are kept as events of their own type (`app_server.<method>`), never dropped or fatal.
 */

type Rec = Readonly<Record<string, unknown>>

/** An event as `codex exec --json` would print it (a JSON object with a string `type`). */
export type ExecEventJson = { readonly type: string } & Rec

/** What one notification turns into: events for the log (often none). */
export type Translated = ReadonlyArray<ExecEventJson>

const isRec = (u: unknown): u is Rec => typeof u === "object" && u !== null && !Array.isArray(u)
const str = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)
const num = (u: unknown): number | undefined => (typeof u === "number" ? u : undefined)

/** camelCase status (`inProgress`) → exec's snake_case (`in_progress`). */
const snake = (s: unknown): string =>
  typeof s === "string" ? s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : "unknown"

// Known notifications that carry nothing the exec event stream has (streaming deltas, status
// flags, bookkeeping). Usage and rate limits are read, then not logged as events of their own.
/**
 * Streaming notifications nothing here reads (`codex exec --json` prints none of them either):
 * the client opts out of them at `initialize` (`optOutNotificationMethods`), so codex does not
 * send a message per token or output chunk that the worker would parse and drop.
 */
export const UNREAD_STREAMING = [
  "item/agentMessage/delta",
  "item/plan/delta",
  "item/reasoning/summaryTextDelta",
  "item/reasoning/summaryPartAdded",
  "item/reasoning/textDelta",
  "item/commandExecution/outputDelta",
  "item/fileChange/outputDelta",
  "turn/diff/updated",
  "rawResponseItem/completed",
  "rawResponse/completed",
] as const

const QUIET: ReadonlySet<string> = new Set([
  ...UNREAD_STREAMING,
  "thread/started",
  "thread/status/changed",
  "thread/tokenUsage/updated",
  "thread/name/updated",
  "thread/settings/updated",
  "account/rateLimits/updated",
  "remoteControl/status/changed",
  "serverRequest/resolved",
  "item/commandExecution/terminalInteraction",
  "item/fileChange/patchUpdated",
  "item/mcpToolCall/progress",
  "mcpServer/startupStatus/updated",
  "skills/changed",
  "hook/started",
  "hook/completed",
  "configWarning", // also printed on stderr by codex itself
])

/** Token counts of the protocol (`TokenUsageBreakdown`) → exec's `usage` object. */
export const usageOf = (breakdown: unknown): Rec | undefined => {
  if (!isRec(breakdown)) return undefined
  const input = num(breakdown.inputTokens)
  const cached = num(breakdown.cachedInputTokens)
  const output = num(breakdown.outputTokens)
  if (input === undefined || cached === undefined || output === undefined) return undefined
  return {
    input_tokens: input,
    cached_input_tokens: cached,
    ...(num(breakdown.cacheWriteInputTokens) === undefined
      ? {}
      : { cache_write_input_tokens: num(breakdown.cacheWriteInputTokens) }),
    output_tokens: output,
    ...(num(breakdown.reasoningOutputTokens) === undefined
      ? {}
      : { reasoning_output_tokens: num(breakdown.reasoningOutputTokens) }),
  }
}

/** A protocol `ThreadItem` → exec's item, or undefined for items exec never prints. */
export const itemOf = (item: Rec): Rec | undefined => {
  const id = str(item.id) ?? "?"
  switch (item.type) {
    case "userMessage":
    case "hookPrompt":
      return undefined // our own log has the prompt (a `user_message` entry)
    case "agentMessage":
      return { id, type: "agent_message", text: str(item.text) ?? "" }
    case "reasoning": {
      const summary = Array.isArray(item.summary) ? item.summary.filter((s) => str(s)) : []
      return { id, type: "reasoning", text: summary.join("\n") }
    }
    case "commandExecution":
      return {
        id,
        type: "command_execution",
        command: str(item.command) ?? "",
        aggregated_output: str(item.aggregatedOutput) ?? "",
        exit_code: num(item.exitCode) ?? null,
        status: snake(item.status),
      }
    case "fileChange": {
      const changes = Array.isArray(item.changes) ? item.changes.filter(isRec) : []
      return {
        id,
        type: "file_change",
        changes: changes.map((c) => ({
          path: str(c.path) ?? "",
          kind: isRec(c.kind) ? (str(c.kind.type) ?? "update") : (str(c.kind) ?? "update"),
        })),
        status: snake(item.status),
      }
    }
    case "webSearch":
      return {
        id,
        type: "web_search",
        query: str(item.query) ?? "",
        ...(isRec(item.action) ? { action: item.action } : {}),
      }
    case "mcpToolCall":
      return {
        id,
        type: "mcp_tool_call",
        server: str(item.server) ?? "",
        tool: str(item.tool) ?? "",
        status: snake(item.status),
        arguments: item.arguments ?? null,
        result: item.result ?? null,
        error: item.error ?? null,
      }
    default:
      // Kept with every field; the type stays the protocol's, which exec never prints.
      return { ...item, id }
  }
}

// exec prints only these item kinds on `item.started` (agent messages and reasoning complete at once).
const STARTED_KINDS: ReadonlySet<string> = new Set([
  "command_execution",
  "file_change",
  "web_search",
  "mcp_tool_call",
])

/** The state of one turn's translation. */
export interface TurnTranslator {
  /** One notification (method and params) of the turn → its events. */
  readonly push: (method: string, params: unknown) => Translated
  /** The last `thread/tokenUsage/updated` of the turn: the thread's total and the turn's own. */
  readonly usage: () => { readonly total?: Rec | undefined; readonly last?: Rec | undefined }
}

/** A translator for one turn of `threadId`; notifications of other threads are ignored. */
export const makeTurnTranslator = (threadId: string): TurnTranslator => {
  let total: Rec | undefined
  let last: Rec | undefined
  let planSeen = false
  let planItem: Rec | undefined
  let warnings = 0
  let errorSaid: string | undefined
  const none: Translated = []
  const events = (...e: Array<ExecEventJson>): Translated => e

  const planOf = (params: Rec): Rec => {
    const steps = Array.isArray(params.plan) ? params.plan.filter(isRec) : []
    return {
      id: `plan_${str(params.turnId) ?? "turn"}`,
      type: "todo_list",
      items: steps.map((s) => ({ text: str(s.step) ?? "", completed: s.status === "completed" })),
    }
  }

  const push = (method: string, raw: unknown): Translated => {
    const params: Rec = isRec(raw) ? raw : {}
    const thread = str(params.threadId)
    if (thread !== undefined && thread !== threadId) return none
    if (QUIET.has(method)) {
      if (method === "thread/tokenUsage/updated" && isRec(params.tokenUsage)) {
        total = usageOf(params.tokenUsage.total) ?? total
        last = usageOf(params.tokenUsage.last) ?? last
      }
      return none
    }
    switch (method) {
      case "turn/started":
        return events({ type: "turn.started" })
      case "item/started":
      case "item/completed": {
        if (!isRec(params.item)) return none
        const item = itemOf(params.item)
        if (item === undefined) return none
        if (method === "item/started" && !STARTED_KINDS.has(String(item.type))) return none
        return events({ type: method === "item/started" ? "item.started" : "item.completed", item })
      }
      case "turn/plan/updated": {
        planItem = planOf(params)
        const type = planSeen ? "item.updated" : "item.started"
        planSeen = true
        return events({ type, item: planItem })
      }
      case "warning": {
        const message = str(params.message) ?? ""
        return events({
          type: "item.completed",
          item: { id: `warning_${warnings++}`, type: "error", message },
        })
      }
      case "error": {
        const error = isRec(params.error) ? params.error : {}
        const message = str(error.message) ?? "codex reported an error"
        if (params.willRetry === true) return events({ type: "error", message })
        errorSaid = message
        return events({ type: "error", message, ...codexInfo(error) })
      }
      case "turn/completed":
        return turnEnd(isRec(params.turn) ? params.turn : {})
      default:
        return events({ type: `app_server.${method}`, params })
    }
  }

  const turnEnd = (turn: Rec): Translated => {
    const closing: Array<ExecEventJson> = []
    if (planItem !== undefined) closing.push({ type: "item.completed", item: planItem })
    const status = str(turn.status)
    if (status === "completed") {
      const usage = total ??
        last ?? {
          input_tokens: 0,
          cached_input_tokens: 0,
          output_tokens: 0,
        }
      closing.push({
        type: "turn.completed",
        usage,
        ...(last === undefined ? {} : { last_usage: last }),
      })
    } else if (status === "failed") {
      const error = isRec(turn.error) ? turn.error : {}
      const message = str(error.message) ?? "the turn failed"
      // exec prints the error before `turn.failed`; the protocol sent it already, or not.
      if (errorSaid !== message) closing.push({ type: "error", message, ...codexInfo(error) })
      closing.push({ type: "turn.failed", error: { message, ...codexInfo(error) } })
    }
    // "interrupted": exec prints nothing either; the run's result says Interrupted.
    return closing
  }

  return { push, usage: () => ({ total, last }) }
}

const codexInfo = (error: Rec): Rec =>
  error.codexErrorInfo === undefined || error.codexErrorInfo === null
    ? {}
    : { codex_error_info: error.codexErrorInfo }
