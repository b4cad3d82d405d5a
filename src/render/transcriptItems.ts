/**
 * How each item of a transcript is drawn (`exec`, `tool`, `plan`, `file update`, `codex`, …),
 * in its final form or unfinished. Pure: the streaming state lives in `transcript.ts`.
 */
import type {
  CommandExecutionItem,
  McpToolCallItem,
  ThreadItem,
  TodoListItem,
} from "../domain/events.js"
import { isUnknownItem } from "../domain/events.js"
import type { Style } from "./style.js"
import { clean, num, rec, str, type Unfinished, withoutType } from "./transcriptText.js"

/** What drawing needs: the style and the output-truncation settings. */
export interface Draw {
  readonly s: Style
  readonly maxLines: number
  readonly full: boolean
  /** A changed file's line by its change kind (`A path`, `D path`, `M path`). */
  readonly changeKinds: Record<string, (path: string) => string>
}

/** The drawing settings for `style`: at most `maxLines` output lines per command unless `full`. */
export const makeDraw = (s: Style, maxLines: number, full: boolean): Draw => ({
  s,
  maxLines,
  full,
  changeKinds: {
    add: (p) => s.green(`A ${p}`),
    delete: (p) => s.red(`D ${p}`),
    update: (p) => s.yellow(`M ${p}`),
  },
})

/** A section header (`exec`, `codex`, …). */
export const head = (d: Draw, name: string, color: (t: string) => string = d.s.magenta): string =>
  d.s.bold(color(name))

/** Command or tool output, dimmed, its middle cut out beyond `maxLines` unless `full`. */
const truncated = (d: Draw, text: string): Array<string> => {
  const { s, maxLines } = d
  const cleaned = clean(text)
  const lines = (cleaned.endsWith("\n") ? cleaned.slice(0, -1) : cleaned).split("\n")
  if (lines.length === 1 && lines[0] === "") return []
  // Hot path: without colour `dim` changes nothing, so the lines are returned as they are.
  if (d.full || lines.length <= maxLines) return s.enabled ? lines.map(s.dim) : lines
  const top = Math.ceil(maxLines / 2)
  const marker = `… +${lines.length - maxLines} lines (codex-tasks log --full to see all)`
  return [
    ...lines.slice(0, top).map(s.dim),
    s.yellow(marker),
    ...lines.slice(lines.length - (maxLines - top)).map(s.dim),
  ]
}

/** The `exec` header of a command: its command line and working directory. */
export const execHeader = (d: Draw, c: CommandExecutionItem): Array<string> => {
  // Not in codex's JSONL today (the Rust tool's logs may have it).
  const cwd = "cwd" in c ? c.cwd : undefined
  return [head(d, "exec"), d.s.bold(clean(c.command)) + (str(cwd) ? ` in ${clean(cwd)}` : "")]
}

const exitLine = (s: Style, c: CommandExecutionItem, unfinished?: Unfinished): string => {
  const output = c.aggregated_output === "" ? "" : ":"
  if (unfinished === "running") return s.yellow(" running…")
  if (unfinished === "ended") return s.yellow(" did not finish (no exit code)")
  if (c.exit_code === 0 && c.status !== "failed") return s.green(` succeeded${output}`)
  if (num(c.exit_code)) return s.red(` failed with exit code ${c.exit_code}${output}`)
  if (c.status === "declined") return s.yellow(" declined (not run)")
  return s.yellow(` ${clean(c.status)} without an exit code${output}`)
}

const command = (
  d: Draw,
  c: CommandExecutionItem,
  unfinished: Unfinished | undefined,
  headerShown: string | undefined,
): Array<string> => [
  ...(headerShown === c.id ? [] : execHeader(d, c)),
  exitLine(d.s, c, unfinished),
  ...truncated(d, c.aggregated_output),
]

const mcpCall = (d: Draw, m: McpToolCallItem, unfinished?: Unfinished): Array<string> => {
  const s = d.s
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
    const message = str(m.error) ? m.error : rec(m.error) ? m.error.message : undefined
    return [
      head(d, "tool"),
      s.bold(call),
      status,
      s.red(clean(str(message) ? message : JSON.stringify(m.error))),
    ]
  }
  // MCP results carry text parts in `content`; anything else is shown as JSON.
  const content = rec(m.result) ? m.result.content : undefined
  const texts = Array.isArray(content)
    ? content.flatMap((c: unknown) => (rec(c) && str(c.text) ? [c.text] : []))
    : []
  const result =
    texts.length > 0 ? texts.join("\n") : m.result === undefined ? "" : JSON.stringify(m.result)
  return [head(d, "tool"), s.bold(call), status, ...truncated(d, result)]
}

/** The agent's plan as a checklist. */
export const plan = (d: Draw, t: TodoListItem): Array<string> => [
  head(d, "plan"),
  ...t.items.map((e) =>
    e.completed ? `  ${d.s.green("✓")} ${clean(e.text)}` : `  • ${clean(e.text)}`,
  ),
]

const unknownChange = (p: string) => `? ${p}`

const notes: Record<Unfinished, string> = { running: " (in progress)", ended: " (did not finish)" }

/**
 * An item in its final form, or `unfinished` (still running / never completed); a command whose
 * header is `headerShown` (the last thing printed) gets only its status and output.
 */
export const drawItem = (
  d: Draw,
  i: ThreadItem,
  unfinished?: Unfinished,
  headerShown?: string,
): Array<string> => {
  const s = d.s
  const note = unfinished === undefined ? "" : notes[unfinished]
  if (isUnknownItem(i)) return [`[${clean(i.type)}]${clean(withoutType(i))}${note}`]
  switch (i.type) {
    case "agent_message":
      return [head(d, "codex"), clean(i.text)]
    case "reasoning":
      return [head(d, "thinking"), s.dim(clean(i.text))]
    case "command_execution":
      return command(d, i, unfinished, headerShown)
    case "file_change": {
      const failed =
        unfinished === undefined && i.status !== "completed" ? ` (${clean(i.status)})` : ""
      const changes = i.changes.map((c) => (d.changeKinds[c.kind] ?? unknownChange)(clean(c.path)))
      return [head(d, "file update") + s.yellow(failed + note), ...changes]
    }
    case "todo_list":
      return plan(d, i)
    case "web_search": {
      const query = clean(i.action?.query ?? i.query)
      if (unfinished === undefined) return [`🌐 Searched: ${query}`]
      return [s.yellow(`🌐 Searching: ${query}${note}`)]
    }
    case "error":
      return [s.yellow(`warning: ${clean(i.message)}`)]
    case "mcp_tool_call":
      return mcpCall(d, i, unfinished)
  }
}
