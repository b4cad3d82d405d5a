/**
 * One stdout line of `codex exec --json` → a decoded event or a kept raw line. Never throws.
 *
 * This runs on every line of every transcript, so the hot path is `JSON.parse` plus the
 * hand-written checks below, which accept exactly what the schemas in `domain/events.ts` accept
 * (a test compares them on every fixture line and on mutations of it); the schemas are only
 * run to explain a rejected line. The decoded event IS the parsed object, so every field, also
 * one no schema names, survives, and `encodeEvent` gives it back.
 */
import { Either, ParseResult, Schema } from "effect"
import { ThreadEvent } from "../domain/events.js"
import { isOverCap, overCapReason } from "./lines.js"

/**
 * A decoded stdout line: an event, or a line kept verbatim with the reason it is not one. A line
 * over the decoding cap (`lines.ts`) is a `RawLine` with an empty `raw` (its bytes are elsewhere,
 * e.g. `ExecOutput.bytes`) and a reason giving its size.
 */
export type ExecLine =
  | { readonly _tag: "Event"; readonly raw: string; readonly event: ThreadEvent }
  | { readonly _tag: "RawLine"; readonly raw: string; readonly reason: string }

type Check = (o: Readonly<Record<string, unknown>>) => boolean

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)
const isString = (u: unknown): u is string => typeof u === "string"
const isNumber = (u: unknown): u is number => typeof u === "number"
const optional =
  (check: (u: unknown) => boolean) =>
  (u: unknown): boolean =>
    u === undefined || check(u)
const optionalString = optional(isString)
const optionalNumber = optional(isNumber)
const every = (u: unknown, check: Check): boolean =>
  Array.isArray(u) && u.every((e) => isObject(e) && check(e))

const itemChecks: ReadonlyMap<string, Check> = new Map<string, Check>([
  ["agent_message", (o) => isString(o.text)],
  ["reasoning", (o) => isString(o.text)],
  [
    "command_execution",
    (o) =>
      isString(o.command) &&
      isString(o.aggregated_output) &&
      (o.exit_code === undefined || o.exit_code === null || isNumber(o.exit_code)) &&
      isString(o.status),
  ],
  [
    "file_change",
    (o) => every(o.changes, (c) => isString(c.path) && isString(c.kind)) && isString(o.status),
  ],
  ["todo_list", (o) => every(o.items, (t) => isString(t.text) && typeof t.completed === "boolean")],
  [
    "web_search",
    (o) =>
      isString(o.query) &&
      (o.action === undefined ||
        (isObject(o.action) && isString(o.action.type) && optionalString(o.action.query))),
  ],
  ["error", (o) => isString(o.message)],
  [
    "mcp_tool_call",
    (o) => optionalString(o.server) && optionalString(o.tool) && optionalString(o.status),
  ],
])

const isItem = (u: unknown): boolean => {
  if (!isObject(u) || !isString(u.type)) return false
  const check = itemChecks.get(u.type)
  return check === undefined || (isString(u.id) && check(u))
}

const eventChecks: ReadonlyMap<string, Check> = new Map<string, Check>([
  ["thread.started", (o) => isString(o.thread_id)],
  ["turn.started", () => true],
  ["item.started", (o) => isItem(o.item)],
  ["item.updated", (o) => isItem(o.item)],
  ["item.completed", (o) => isItem(o.item)],
  [
    "turn.completed",
    (o) =>
      isObject(o.usage) &&
      isNumber(o.usage.input_tokens) &&
      isNumber(o.usage.cached_input_tokens) &&
      optionalNumber(o.usage.cache_write_input_tokens) &&
      isNumber(o.usage.output_tokens) &&
      optionalNumber(o.usage.reasoning_output_tokens),
  ],
  ["turn.failed", (o) => isObject(o.error) && isString(o.error.message)],
  ["error", (o) => isString(o.message)],
])

// Cold path: the schema's own words for why a line of a known type was rejected.
const decodeEvent = Schema.decodeUnknownEither(ThreadEvent)
const explain = (value: unknown): string => {
  const result = decodeEvent(value)
  if (Either.isRight(result)) return "unexpected shape"
  const issue = ParseResult.ArrayFormatter.formatErrorSync(result.left)[0]
  if (issue === undefined) return "unexpected shape"
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
  return `${path.join("").replace(/^\./, "") || "event"} ${issue.message}`
}

const rawLine = (raw: string, reason: string): ExecLine => ({ _tag: "RawLine", raw, reason })

/**
 * Decodes one stdout line (without its `\n`). Not JSON, not an object, no string `type`, or a
 * known type whose fields do not match its schema → `RawLine`; an unknown type → `UnknownEvent`.
 */
export const decodeLine = (raw: string): ExecLine => {
  let value: unknown
  try {
    // JSON.parse keeps the last of duplicate keys (the web_search item repeats "id").
    value = JSON.parse(raw)
  } catch {
    return rawLine(raw, "not valid JSON")
  }
  if (!isObject(value)) return rawLine(raw, "not a JSON object")
  const type = value.type
  if (!isString(type)) return rawLine(raw, 'no string "type" field')
  const check = eventChecks.get(type)
  if (check === undefined || check(value)) {
    return { _tag: "Event", raw, event: value as ThreadEvent }
  }
  return rawLine(raw, `malformed "${type}" event: ${explain(value)}`)
}

/**
 * Decodes one stdout line given as bytes (UTF-8, without its `\n`); `size` is its full length
 * when only its start was kept. A line over the decoding cap is not decoded at all.
 */
export const decodeLineBytes = (bytes: Uint8Array, size: number = bytes.length): ExecLine =>
  isOverCap(size)
    ? rawLine("", overCapReason(size, bytes.length))
    : decodeLine(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8"))

/** The JSON line of an event (no trailing newline), with every field it was decoded with. */
export const encodeEvent = (event: ThreadEvent): string => JSON.stringify(event)
