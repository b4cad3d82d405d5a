/**
 * The human transcript of a `task.log`, section by section like `codex exec` prints it (`user`,
 * `thinking`, `exec`, `file update`, `codex`, `tokens used`), plus our synthetic entries. It is
 * a streaming renderer: `log` feeds it the lines as they are read, `log -f` as they are written.
 * This file holds the state of one pass; items are drawn by `transcriptItems.ts`, synthetic
 * entries by `transcriptEntries.ts`.
 */
import type { ThreadEvent, ThreadItem, Usage } from "../domain/events.js"
import { isUnknownEvent, isUnknownItem, usageDelta } from "../domain/events.js"
import { decodeLogEntry } from "../domain/logEntries.js"
import { decodeLine } from "../exec/decode.js"
import type { Style } from "./style.js"
import { drawEntry, flushesBefore } from "./transcriptEntries.js"
import { drawItem, execHeader, head, makeDraw, plan } from "./transcriptItems.js"
import {
  clean,
  groupDigits,
  type Rec,
  rec,
  str,
  type Unfinished,
  withoutType,
} from "./transcriptText.js"

export { groupDigits }

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

/** An event or entry nobody draws precisely: its type and its other fields. */
const generic = (o: Rec): string => `[${clean(String(o.type))}]${clean(withoutType(o))}`

/** A fresh renderer: one per pass over a log (it keeps the previous usage total, open items…). */
export const makeTranscriptRenderer = (options: TranscriptOptions): TranscriptRenderer => {
  const s = options.style
  const d = makeDraw(s, Math.max(0, options.maxOutputLines ?? 20), options.full === true)

  let threadId: string | undefined
  let previousUsage: Usage | undefined
  let lastError: string | undefined
  // Started but not completed items (todo lists excepted), by id, in start order.
  const open = new Map<string, ThreadItem>()
  // The command whose `exec` header is the last thing printed: its status can follow directly.
  let headerShown: string | undefined
  const plans = new Map<string, string>()

  // The shown item's status can continue its header, so it goes first.
  const unfinishedItems = (how: Unfinished): Array<string> => {
    const items = [...open.values()].sort(
      (a, b) => Number(b.id === headerShown) - Number(a.id === headerShown),
    )
    return items.flatMap((i, n) => {
      if (n > 0) headerShown = undefined
      return drawItem(d, i, how, headerShown)
    })
  }

  const flush = (): Array<string> => {
    const lines = unfinishedItems("ended")
    open.clear()
    plans.clear()
    return lines
  }

  const itemEvent = (type: string, i: ThreadItem): Array<string> => {
    const id = str(i.id) ? i.id : `?${i.type}`
    if (!isUnknownItem(i) && i.type === "todo_list") {
      const key = JSON.stringify(i.items)
      if (plans.get(i.id) === key) return []
      plans.set(i.id, key)
      return plan(d, i)
    }
    if (type === "item.completed") {
      const lines = drawItem(d, i, undefined, headerShown)
      open.delete(id)
      return lines
    }
    const started = type === "item.started" && !open.has(id)
    open.set(id, i)
    if (started && !isUnknownItem(i) && i.type === "command_execution") {
      headerShown = id
      return execHeader(d, i)
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
    return [head(d, "tokens used"), groupDigits(turn.input_tokens + turn.output_tokens)]
  }

  // Our synthetic entries are unknown events to the codex schemas; one that does not match its
  // own schema is shown like any other unknown event.
  const unknownEvent = (e: Rec & { readonly type: string }): Array<string> => {
    const entry = decodeLogEntry(e)
    if (entry === undefined) return [generic(e)]
    if (entry.type === "user_message") lastError = undefined
    return flushesBefore(entry) ? [...flush(), ...drawEntry(d, entry)] : drawEntry(d, entry)
  }

  const event = (e: ThreadEvent): Array<string> => {
    if (isUnknownEvent(e)) return unknownEvent(e)
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
    // A malformed event is a JSON object with a string `type` (decode.ts).
    const parsed: unknown = decoded.reason.startsWith("malformed") ? JSON.parse(raw) : undefined
    if (!rec(parsed)) return [clean(raw)]
    return [`${generic(parsed)} ${s.dim(`(${decoded.reason})`)}`]
  }

  // Concatenation, not join: the pieces stay a rope until the caller writes them out, once.
  const text = (lines: Array<string>): string => {
    let out = ""
    for (const l of lines) out += `${l}\n`
    return out
  }

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
