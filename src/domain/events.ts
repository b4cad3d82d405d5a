/**
 * Schemas for the JSONL events printed by `codex exec --json` (codex-cli 0.169.0, see
 * `fixtures/codex-exec/` and BEHAVIOR.md §4).
 *
 * Decoding is tolerant: fields nobody models are kept (decode with `onExcessProperty:
 * "preserve"`, or use `decodeLine` which returns the parsed object itself), and event or item
 * types this file does not know decode to `UnknownEvent` / `UnknownItem`, which keep every
 * field. Their `type` is branded and never one of the known type strings: rule out the unknown
 * variant first (`isUnknownEvent`, `isUnknownItem`, or the `is…` guards below), then a `switch`
 * on `type` narrows to the precise variant.
 */
import { Schema } from "effect"
import { knownItemTypes, ThreadItem, type UnknownItem } from "./items.js"

export * from "./items.js"

// Status and kind strings are left open (codex adds values, e.g. "declined") rather than
// failing a whole event on a value this file has not seen.

/** Token counts of `turn.completed`; codex reports the thread's running total, not the turn's. */
export const Usage = Schema.Struct({
  input_tokens: Schema.Number,
  cached_input_tokens: Schema.Number,
  cache_write_input_tokens: Schema.optional(Schema.Number),
  output_tokens: Schema.Number,
  reasoning_output_tokens: Schema.optional(Schema.Number),
})
/** Token counts of `turn.completed`. */
export type Usage = typeof Usage.Type

// ---------------------------------------------------------------------------------------------
// Events

/** First line of every run that created or resumed a thread. */
export const ThreadStarted = Schema.Struct({
  type: Schema.Literal("thread.started"),
  thread_id: Schema.String,
})
/** First line of every run that created or resumed a thread. */
export type ThreadStarted = typeof ThreadStarted.Type

/** The (single) turn of the run begins. */
export const TurnStarted = Schema.Struct({ type: Schema.Literal("turn.started") })
/** The turn begins. */
export type TurnStarted = typeof TurnStarted.Type

/** An item began (only command_execution, file_change, todo_list, web_search). */
export const ItemStarted = Schema.Struct({ type: Schema.Literal("item.started"), item: ThreadItem })
/** An item began. */
export type ItemStarted = typeof ItemStarted.Type

/** An item changed (seen for todo_list). */
export const ItemUpdated = Schema.Struct({ type: Schema.Literal("item.updated"), item: ThreadItem })
/** An item changed. */
export type ItemUpdated = typeof ItemUpdated.Type

/** An item is final. */
export const ItemCompleted = Schema.Struct({
  type: Schema.Literal("item.completed"),
  item: ThreadItem,
})
/** An item is final. */
export type ItemCompleted = typeof ItemCompleted.Type

/** Any of the three `item.*` events. */
export type ItemEvent = ItemStarted | ItemUpdated | ItemCompleted

/** The turn finished; `usage` is the thread's running total. */
export const TurnCompleted = Schema.Struct({ type: Schema.Literal("turn.completed"), usage: Usage })
/** The turn finished. */
export type TurnCompleted = typeof TurnCompleted.Type

/** The error of a failed turn. */
export const ThreadError = Schema.Struct({ message: Schema.String })
/** The error of a failed turn. */
export type ThreadError = typeof ThreadError.Type

/** The turn failed; always preceded by an `error` event with the same message. */
export const TurnFailedEvent = Schema.Struct({
  type: Schema.Literal("turn.failed"),
  error: ThreadError,
})
/** The turn failed. */
export type TurnFailedEvent = typeof TurnFailedEvent.Type

/** An error report: fatal before `turn.failed`, informational for `Reconnecting...`. */
export const ErrorEvent = Schema.Struct({ type: Schema.Literal("error"), message: Schema.String })
/** An error report (fatal or not). */
export type ErrorEvent = typeof ErrorEvent.Type

/** Event `type` strings this file decodes precisely. */
export const knownEventTypes: ReadonlySet<string> = new Set([
  "thread.started",
  "turn.started",
  "item.started",
  "item.updated",
  "item.completed",
  "turn.completed",
  "turn.failed",
  "error",
])

/** The `type` of an event this file does not know (never a known event type). */
export const UnknownEventType = Schema.String.pipe(
  Schema.filter((type) => !knownEventTypes.has(type), {
    message: () => "a known event type must match its schema",
  }),
  Schema.brand("UnknownEventType"),
)

/** An event of a type this file does not know, with all its fields. */
export const UnknownEvent = Schema.Struct(
  { type: UnknownEventType },
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
)
/** An event of a type this file does not know. */
export type UnknownEvent = typeof UnknownEvent.Type

/** Every line of `codex exec --json` stdout. */
export const ThreadEvent = Schema.Union(
  ThreadStarted,
  TurnStarted,
  ItemStarted,
  ItemUpdated,
  ItemCompleted,
  TurnCompleted,
  TurnFailedEvent,
  ErrorEvent,
  UnknownEvent,
)
/** Every line of `codex exec --json` stdout. */
export type ThreadEvent = typeof ThreadEvent.Type

/** The events this file decodes precisely (`ThreadEvent` minus `UnknownEvent`). */
export type KnownThreadEvent = Exclude<ThreadEvent, UnknownEvent>

/** The items this file decodes precisely (`ThreadItem` minus `UnknownItem`). */
export type KnownThreadItem = Exclude<ThreadItem, UnknownItem>

// ---------------------------------------------------------------------------------------------
// Helpers

/** True for `thread.started`. */
export const isThreadStarted = (e: ThreadEvent): e is ThreadStarted => e.type === "thread.started"

/** True for `turn.completed`. */
export const isTurnCompleted = (e: ThreadEvent): e is TurnCompleted => e.type === "turn.completed"

/** True for `turn.failed`. */
export const isTurnFailed = (e: ThreadEvent): e is TurnFailedEvent => e.type === "turn.failed"

/** True for the `error` event. */
export const isErrorEvent = (e: ThreadEvent): e is ErrorEvent => e.type === "error"

/** True for `item.started`, `item.updated` and `item.completed`. */
export const isItemEvent = (e: ThreadEvent): e is ItemEvent =>
  e.type === "item.started" || e.type === "item.updated" || e.type === "item.completed"

/** True for an event type this file does not know. */
export const isUnknownEvent = (e: ThreadEvent): e is UnknownEvent => !knownEventTypes.has(e.type)

/** True for an event type this file decodes precisely. */
export const isKnownEvent = (e: ThreadEvent): e is KnownThreadEvent => knownEventTypes.has(e.type)

/** True for an item type this file does not know. */
export const isUnknownItem = (item: ThreadItem): item is UnknownItem =>
  !knownItemTypes.has(item.type)

const minus = (total: number, previous: number | undefined): number =>
  Math.max(0, total - (previous ?? 0))

/**
 * Usage of one turn from the thread's running totals (`previousTotal` is the `turn.completed`
 * usage of the thread's previous turn, `undefined` for its first). A counter that went down
 * (which codex never did here) yields 0 rather than a negative count.
 */
export const usageDelta = (previousTotal: Usage | undefined, total: Usage): Usage => ({
  input_tokens: minus(total.input_tokens, previousTotal?.input_tokens),
  cached_input_tokens: minus(total.cached_input_tokens, previousTotal?.cached_input_tokens),
  ...(total.cache_write_input_tokens === undefined
    ? {}
    : {
        cache_write_input_tokens: minus(
          total.cache_write_input_tokens,
          previousTotal?.cache_write_input_tokens,
        ),
      }),
  output_tokens: minus(total.output_tokens, previousTotal?.output_tokens),
  ...(total.reasoning_output_tokens === undefined
    ? {}
    : {
        reasoning_output_tokens: minus(
          total.reasoning_output_tokens,
          previousTotal?.reasoning_output_tokens,
        ),
      }),
})
