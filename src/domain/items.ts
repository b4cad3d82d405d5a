/**
 * Schemas for the items of `codex exec --json` `item.*` events (see `events.ts`, which re-exports
 * them). Unknown item types decode to `UnknownItem`, which keeps every field.
 */
import { Schema, SchemaAST } from "effect"

// ---------------------------------------------------------------------------------------------
// Items

/** A message from the agent (the last one of a turn is its final answer). */
export const AgentMessageItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("agent_message"),
  text: Schema.String,
})
/** A message from the agent. */
export type AgentMessageItem = typeof AgentMessageItem.Type

/** The model's reasoning summary (parts joined with `\n`). */
export const ReasoningItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("reasoning"),
  text: Schema.String,
})
/** The model's reasoning summary. */
export type ReasoningItem = typeof ReasoningItem.Type

/** A shell command; `exit_code` is null (or absent) while it runs. */
export const CommandExecutionItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("command_execution"),
  command: Schema.String,
  aggregated_output: Schema.String,
  exit_code: Schema.optional(Schema.NullOr(Schema.Number)),
  /** "in_progress" | "completed" | "failed" | "declined" as far as known. */
  status: Schema.String,
})
/** A shell command run by the agent. */
export type CommandExecutionItem = typeof CommandExecutionItem.Type

/** One changed file of a `file_change` item; `kind` is "add" | "delete" | "update" as far as known. */
export const FileUpdateChange = Schema.Struct({ path: Schema.String, kind: Schema.String })
/** One changed file of a `file_change` item. */
export type FileUpdateChange = typeof FileUpdateChange.Type

/** A patch applied by the agent. */
export const FileChangeItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("file_change"),
  changes: Schema.Array(FileUpdateChange),
  status: Schema.String,
})
/** A patch applied by the agent. */
export type FileChangeItem = typeof FileChangeItem.Type

/** One entry of the agent's plan. */
export const TodoEntry = Schema.Struct({ text: Schema.String, completed: Schema.Boolean })
/** One entry of the agent's plan. */
export type TodoEntry = typeof TodoEntry.Type

/** The agent's plan (`update_plan`). */
export const TodoListItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("todo_list"),
  items: Schema.Array(TodoEntry),
})
/** The agent's plan. */
export type TodoListItem = typeof TodoListItem.Type

/** What a web search did (not in the SDK's types; loosely modelled). */
export const WebSearchAction = Schema.Struct({
  type: Schema.String,
  query: Schema.optional(Schema.String),
})

/** A hosted web search. The raw JSON repeats `"id"`; `JSON.parse` keeps the upstream one. */
export const WebSearchItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("web_search"),
  query: Schema.String,
  action: Schema.optional(WebSearchAction),
})
/** A hosted web search. */
export type WebSearchItem = typeof WebSearchItem.Type

/** A non-fatal warning shown as an item (e.g. the model-metadata notice). */
export const ErrorItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("error"),
  message: Schema.String,
})
/** A non-fatal warning shown as an item. */
export type ErrorItem = typeof ErrorItem.Type

/** An MCP tool call (never observed; modelled loosely after the public codex SDK). */
export const McpToolCallItem = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("mcp_tool_call"),
  server: Schema.optional(Schema.String),
  tool: Schema.optional(Schema.String),
  arguments: Schema.optional(Schema.Unknown),
  result: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.Unknown),
  status: Schema.optional(Schema.String),
})
/** An MCP tool call. */
export type McpToolCallItem = typeof McpToolCallItem.Type

/** Item `type` strings this file decodes precisely. */
export const knownItemTypes: ReadonlySet<string> = new Set([
  "agent_message",
  "reasoning",
  "command_execution",
  "file_change",
  "todo_list",
  "web_search",
  "error",
  "mcp_tool_call",
])

/** The `type` of an item this file does not know (never a known item type). */
export const UnknownItemType = Schema.String.pipe(
  Schema.filter((type) => !knownItemTypes.has(type), {
    message: () => "a known item type must match its schema",
    jsonSchema: { not: { enum: [...knownItemTypes] } },
  }),
  Schema.brand("UnknownItemType"),
)

/** An item of a type this file does not know, with all its fields. */
export const UnknownItem = Schema.Struct(
  { type: UnknownItemType },
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
)
/** An item of a type this file does not know. */
export type UnknownItem = typeof UnknownItem.Type

/** Any item of an `item.*` event. */
export const ThreadItem = Schema.Union(
  AgentMessageItem,
  ReasoningItem,
  CommandExecutionItem,
  FileChangeItem,
  TodoListItem,
  WebSearchItem,
  ErrorItem,
  McpToolCallItem,
  UnknownItem,
  // The JSON Schema's name (docs/json-schema/log-entry.schema.json $defs); parse errors keep theirs.
).annotations({ [SchemaAST.JSONIdentifierAnnotationId]: "item" })
/** Any item of an `item.*` event. */
export type ThreadItem = typeof ThreadItem.Type
