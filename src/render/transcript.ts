/**
 * The human transcript of a `task.log`, section by section like `codex exec` prints it (`user`,
 * `thinking`, `exec`, `file update`, `codex`, `tokens used`), plus our synthetic entries. It is
 * a streaming renderer: `log` feeds it the lines as they are read, `log -f` as they are written.
 */
import type {
  CommandExecutionItem,
  McpToolCallItem,
  ThreadEvent,
  ThreadItem,
  TodoListItem,
  Usage,
} from "../domain/events.js"
import { isUnknownEvent, isUnknownItem, usageDelta } from "../domain/events.js"
import { decodeLine } from "../exec/decode.js"
import type { Style } from "./style.js"

/** How the transcript is drawn. */
export interface TranscriptOptions {
  readonly style: Style
  /** Output lines shown per command before truncation (default 20). */
  readonly maxOutputLines?: number
  /** Never truncate command output. */
  readonly full?: boolean
}

/** A transcript renderer holding what one pass over a log has seen so far. */
export interface TranscriptRenderer {
  /**
   * Renders one complete log line (without its `\n`). Returns the text to write, every line of
   * it ending in `\n`, or `""` when the line prints nothing (e.g. `turn.started`).
   */
  readonly line: (raw: string) => string
  /**
   * The items that started but never completed (a running command), in the same form; `ended`
   * says the task is no longer running, so they did not finish rather than still run.
   */
  readonly pending: (ended?: boolean) => string
}

type Rec = Readonly<Record<string, unknown>>
type Unfinished = "running" | "ended"

const str = (u: unknown): u is string => typeof u === "string"
const num = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

// Terminal escapes would repaint the user's screen; other controls become visible gaps.
const escapes = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b\[[0-?]*[ -/]*[@-~]?|\u001b./g
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g
const clean = (s: string): string =>
  s.replace(/\r\n/g, "\n").replace(escapes, "").replace(/\r/g, "\n").replace(controls, " ")

/** `10478` → `10,478`, whatever the locale. */
export const groupDigits = (n: number): string =>
  String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")

const withoutType = (o: Rec): string => {
  const { type: _, ...rest } = o
  return Object.keys(rest).length === 0 ? "" : ` ${JSON.stringify(rest)}`
}

/** A fresh renderer: one per pass over a log (it keeps the previous usage total, open items…). */
export const makeTranscriptRenderer = (options: TranscriptOptions): TranscriptRenderer => {
  const s = options.style
  const maxLines = Math.max(0, options.maxOutputLines ?? 20)
  const head = (name: string, color: (t: string) => string = s.magenta) => s.bold(color(name))

  let threadId: string | undefined
  let previousUsage: Usage | undefined
  let lastError: string | undefined
  // Started but not completed items (todo lists excepted), by id, in start order.
  const open = new Map<string, ThreadItem>()
  // The command whose `exec` header is the last thing printed: its status can follow directly.
  let headerShown: string | undefined
  const plans = new Map<string, string>()

  const truncated = (text: string): Array<string> => {
    const lines = clean(text).replace(/\n$/, "").split("\n")
    if (lines.length === 1 && lines[0] === "") return []
    if (options.full === true || lines.length <= maxLines) return lines.map(s.dim)
    const top = Math.ceil(maxLines / 2)
    const marker = `… +${lines.length - maxLines} lines (codex-tasks log --full to see all)`
    return [
      ...lines.slice(0, top).map(s.dim),
      s.yellow(marker),
      ...lines.slice(lines.length - (maxLines - top)).map(s.dim),
    ]
  }

  const execHeader = (c: CommandExecutionItem): Array<string> => {
    const cwd = (c as Rec).cwd
    return [head("exec"), s.bold(clean(c.command)) + (str(cwd) ? ` in ${clean(cwd)}` : "")]
  }

  const exitLine = (c: CommandExecutionItem, unfinished?: Unfinished): string => {
    const output = c.aggregated_output === "" ? "" : ":"
    if (unfinished === "running") return s.yellow(" running…")
    if (unfinished === "ended") return s.yellow(" did not finish (no exit code)")
    if (c.exit_code === 0 && c.status !== "failed") return s.green(` succeeded${output}`)
    if (num(c.exit_code)) return s.red(` failed with exit code ${c.exit_code}${output}`)
    if (c.status === "declined") return s.yellow(" declined (not run)")
    return s.yellow(` ${clean(c.status)} without an exit code${output}`)
  }

  const command = (c: CommandExecutionItem, unfinished?: Unfinished): Array<string> => [
    ...(headerShown === c.id ? [] : execHeader(c)),
    exitLine(c, unfinished),
    ...truncated(c.aggregated_output),
  ]

  const mcpCall = (m: McpToolCallItem, unfinished?: Unfinished): Array<string> => {
    const args = m.arguments === undefined ? "" : clean(JSON.stringify(m.arguments) ?? "")
    const call = `${clean(m.server ?? "?")}.${clean(m.tool ?? "?")}(${args})`
    const failed = m.error !== undefined && m.error !== null
    const status =
      unfinished === "running"
        ? s.yellow(" running…")
        : unfinished === "ended"
          ? s.yellow(" did not finish")
          : failed || m.status === "failed"
            ? s.red(` ${clean(m.status ?? "failed")}`)
            : s.green(` ${clean(m.status ?? "completed")}`)
    if (failed) {
      const message = str(m.error) ? m.error : (m.error as Rec).message
      return [
        head("tool"),
        s.bold(call),
        status,
        s.red(clean(str(message) ? message : JSON.stringify(m.error))),
      ]
    }
    // MCP results carry text parts in `content`; anything else is shown as JSON.
    const content = (m.result as Rec | undefined)?.content
    const texts = Array.isArray(content)
      ? content.flatMap((c: unknown) =>
          str((c as Rec | null)?.text) ? [(c as Rec).text as string] : [],
        )
      : []
    const result =
      texts.length > 0 ? texts.join("\n") : m.result === undefined ? "" : JSON.stringify(m.result)
    return [head("tool"), s.bold(call), status, ...truncated(result)]
  }

  const plan = (t: TodoListItem): Array<string> => [
    head("plan"),
    ...t.items.map((e) =>
      e.completed ? `  ${s.green("✓")} ${clean(e.text)}` : `  • ${clean(e.text)}`,
    ),
  ]

  const kinds: Record<string, (p: string) => string> = {
    add: (p) => s.green(`A ${p}`),
    delete: (p) => s.red(`D ${p}`),
    update: (p) => s.yellow(`M ${p}`),
  }

  /** An item in its final form, or `unfinished` (still running / never completed). */
  const item = (i: ThreadItem, unfinished?: Unfinished): Array<string> => {
    const note =
      unfinished === "running"
        ? " (in progress)"
        : unfinished === "ended"
          ? " (did not finish)"
          : ""
    if (isUnknownItem(i)) return [`[${clean(i.type)}]${clean(withoutType(i))}${note}`]
    switch (i.type) {
      case "agent_message":
        return [head("codex"), clean(i.text)]
      case "reasoning":
        return [head("thinking"), s.dim(clean(i.text))]
      case "command_execution":
        return command(i, unfinished)
      case "file_change": {
        const failed =
          unfinished === undefined && i.status !== "completed" ? ` (${clean(i.status)})` : ""
        const changes = i.changes.map((c) =>
          (kinds[c.kind] ?? ((p: string) => `? ${p}`))(clean(c.path)),
        )
        return [head("file update") + s.yellow(failed + note), ...changes]
      }
      case "todo_list":
        return plan(i)
      case "web_search": {
        const query = clean(i.action?.query ?? i.query)
        if (unfinished === undefined) return [`🌐 Searched: ${query}`]
        return [s.yellow(`🌐 Searching: ${query}${note}`)]
      }
      case "error":
        return [s.yellow(`warning: ${clean(i.message)}`)]
      case "mcp_tool_call":
        return mcpCall(i, unfinished)
    }
  }

  // The shown item's status can continue its header, so it goes first.
  const unfinishedItems = (how: Unfinished): Array<string> => {
    const items = [...open.values()].sort(
      (a, b) => Number(b.id === headerShown) - Number(a.id === headerShown),
    )
    return items.flatMap((i, n) => {
      if (n > 0) headerShown = undefined
      return item(i, how)
    })
  }

  const flush = (): Array<string> => {
    const lines = unfinishedItems("ended")
    open.clear()
    plans.clear()
    return lines
  }

  const itemEvent = (type: string, i: ThreadItem): Array<string> => {
    const rawId = (i as Rec).id
    const id = str(rawId) ? rawId : `?${i.type}`
    if (!isUnknownItem(i) && i.type === "todo_list") {
      const key = JSON.stringify(i.items)
      if (plans.get(i.id) === key) return []
      plans.set(i.id, key)
      return plan(i)
    }
    if (type === "item.completed") {
      const lines = item(i)
      open.delete(id)
      return lines
    }
    const started = type === "item.started" && !open.has(id)
    open.set(id, i)
    if (started && !isUnknownItem(i) && i.type === "command_execution") {
      headerShown = undefined
      const lines = execHeader(i)
      headerShown = id
      return lines
    }
    return []
  }

  const tokens = (usage: Usage): Array<string> => {
    const prev = previousUsage
    const reset =
      prev !== undefined &&
      (usage.input_tokens < prev.input_tokens || usage.output_tokens < prev.output_tokens)
    const turn = reset ? usage : usageDelta(prev, usage)
    previousUsage = usage
    return [head("tokens used"), groupDigits(turn.input_tokens + turn.output_tokens)]
  }

  const synthetic = (e: Rec): Array<string> | undefined => {
    switch (e.type) {
      case "user_message":
        if (!str(e.message)) return undefined
        lastError = undefined
        return [...flush(), head("user", s.cyan), clean(e.message)]
      case "stderr":
        return str(e.message) ? [s.dim(`stderr: ${clean(e.message)}`)] : undefined
      case "worker":
        return str(e.message) ? [s.dim(`worker: ${clean(e.message)}`)] : undefined
      case "retry": {
        if (!num(e.attempt) || !num(e.max_retries) || !num(e.delay_ms)) return undefined
        const why = `${clean(String(e.error_class ?? "error"))}: ${clean(String(e.message ?? ""))}`
        const delay = (e.delay_ms / 1000).toFixed(1)
        return [...flush(), s.yellow(`retry ${e.attempt}/${e.max_retries} in ${delay} s: ${why}`)]
      }
      case "invocation_failed": {
        if (!str(e.message)) return undefined
        const cls = str(e.error_class) ? ` (${clean(e.error_class)})` : ""
        const retry = e.retryable === true ? s.dim(" (will retry)") : ""
        return [...flush(), s.red(`ERROR: codex failed${cls}: ${clean(e.message)}`) + retry]
      }
      case "prompts_dropped": {
        if (!Array.isArray(e.prompts)) return undefined
        const prompts = e.prompts.map((p) => `  - ${clean(String(p)).replace(/\n/g, "\n    ")}`)
        const count = num(e.count) ? e.count : prompts.length
        return [s.yellow(`${count} queued prompt${count === 1 ? "" : "s"} dropped:`), ...prompts]
      }
      default:
        return undefined
    }
  }

  const event = (e: ThreadEvent): Array<string> => {
    if (isUnknownEvent(e)) return synthetic(e) ?? [`[${clean(e.type)}]${clean(withoutType(e))}`]
    switch (e.type) {
      case "thread.started": {
        const lines = flush()
        if (e.thread_id === threadId) return lines
        if (threadId !== undefined) previousUsage = undefined
        threadId = e.thread_id
        return [...lines, s.dim(`thread ${clean(e.thread_id)}`)]
      }
      case "turn.started":
        lastError = undefined
        return []
      case "item.started":
      case "item.updated":
      case "item.completed":
        return itemEvent(e.type, e.item)
      case "turn.completed":
        return [...flush(), ...tokens(e.usage)]
      case "turn.failed": {
        const same = e.error.message === lastError
        lastError = undefined
        return [
          ...flush(),
          s.red(same ? "turn failed" : `ERROR: turn failed: ${clean(e.error.message)}`),
        ]
      }
      case "error":
        if (e.message.startsWith("Reconnecting..."))
          return [s.yellow(`warning: ${clean(e.message)}`)]
        lastError = e.message
        return [s.red(`ERROR: ${clean(e.message)}`)]
    }
  }

  const render = (raw: string): Array<string> => {
    const decoded = decodeLine(raw)
    if (decoded._tag === "Event") return event(decoded.event)
    const parsed = decoded.reason.startsWith("malformed") ? (JSON.parse(raw) as Rec) : undefined
    if (parsed === undefined) return [clean(raw)]
    return [
      `[${clean(String(parsed.type))}]${clean(withoutType(parsed))} ${s.dim(`(${decoded.reason})`)}`,
    ]
  }

  const text = (lines: Array<string>): string => (lines.length === 0 ? "" : `${lines.join("\n")}\n`)

  return {
    line: (raw) => {
      const shown = headerShown
      let lines: Array<string>
      try {
        lines = render(raw)
      } catch {
        lines = [clean(raw)]
      }
      // Anything printed after a command's header means its status can no longer continue it.
      if (lines.length > 0 && headerShown === shown) headerShown = undefined
      return text(lines)
    },
    pending: (ended = false) => {
      const shown = headerShown
      try {
        return text(unfinishedItems(ended ? "ended" : "running"))
      } catch {
        return ""
      } finally {
        headerShown = shown
      }
    },
  }
}
