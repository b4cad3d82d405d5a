/**
 * What the human transcript shows for a log line over the decoding cap (`exec/lines.ts`): its
 * event type (and item type), its size and how to see it, instead of megabytes of one line.
 */
import { isOverCap, overCapReason } from "../exec/lines.js"
import type { TranscriptRenderer } from "./transcript.js"

// Only the start of the line is looked at; codex writes `type` first and an item's id and type
// first (`{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":…`).
const HEAD_BYTES = 4096
const name = /^[\w.:/-]{1,64}$/
const eventType = /^\s*\{\s*"type"\s*:\s*"([^"\\]*)"/
const itemType =
  /"item"\s*:\s*\{\s*(?:"id"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*)?"type"\s*:\s*"([^"\\]*)"/

const typeOf = (head: string, pattern: RegExp): string | undefined => {
  const found = pattern.exec(head)?.[1]
  return found !== undefined && name.test(found) ? found : undefined
}

/** The one-line stand-in for an over-cap log line of task `taskId`. */
export const overCapSummary = (bytes: Uint8Array, taskId: string): string => {
  const head = Buffer.from(
    bytes.buffer,
    bytes.byteOffset,
    Math.min(bytes.length, HEAD_BYTES),
  ).toString("utf8")
  const types = [typeOf(head, eventType), typeOf(head, itemType)].filter((t) => t !== undefined)
  const label = types.length === 0 ? "" : `[${types.join(" ")}] `
  return `${label}${overCapReason(bytes.length)}: not shown (codex-tasks log --json ${taskId} prints it)`
}

/** Renders one `task.log` line, or its stand-in when it is over the decoding cap. */
export const renderLogLine = (
  renderer: TranscriptRenderer,
  bytes: Buffer,
  taskId: string,
): string =>
  renderer.line(isOverCap(bytes.length) ? overCapSummary(bytes, taskId) : bytes.toString("utf8"))
