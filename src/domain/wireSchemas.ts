import { JSONSchema, type Schema } from "effect"
import {
  ApplyJson,
  DiffJson,
  LogLineJson,
  SendJson,
  StartJson,
  TaskJson,
  TaskListJson,
} from "./wire.js"

type Json = { readonly [key: string]: unknown } | ReadonlyArray<unknown> | string | number | boolean

// Effect marks `unknown` and `any` with an `$id` of its own ("/schemas/unknown"); as a relative
// id it would resolve to one URI in every file, which validators reject: say `true` instead.
const clean = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(clean)
  if (value === null || typeof value !== "object") return value
  const record = value as Record<string, unknown>
  if (typeof record.$id === "string" && record.$id.startsWith("/schemas/")) {
    const { $id: _, title: __, ...rest } = record
    return Object.keys(rest).length === 0 ? true : clean(rest)
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, clean(v)]))
}

// Effect titles its refinements ("minLength(1)"); an input's arguments keep only what we wrote.
const untitled = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(untitled)
  if (value === null || typeof value !== "object") return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !(k === "title" && typeof v === "string"))
      .map(([k, v]) => [k, untitled(v)]),
  )
}

/**
 * The JSON Schema (2020-12) of a wire shape, objects open to more keys (consumers must accept
 * keys added later); what docs/json-schema/ holds and what the MCP zod schemas are built from.
 * `input`: an argument object instead, closed (a misspelt key is refused) and without titles.
 */
export const jsonSchemaOf = <A, I>(
  schema: Schema.Schema<A, I>,
  options: { readonly input?: boolean } = {},
): Record<string, unknown> => {
  const definitions: Record<string, JSONSchema.JsonSchema7> = {}
  const body = JSONSchema.fromAST(schema.ast, {
    definitions,
    target: "jsonSchema2020-12",
    additionalPropertiesStrategy: options.input === true ? "strict" : "allow",
  })
  const defs = Object.keys(definitions).length === 0 ? {} : { $defs: definitions }
  const out = clean({ $schema: "https://json-schema.org/draft/2020-12/schema", ...defs, ...body })
  return (options.input === true ? untitled(out) : out) as Record<string, unknown>
}

const documented = <A, I>(
  name: string,
  title: string,
  description: string,
  schema: Schema.Schema<A, I>,
  extra: Record<string, Json> = {},
) => {
  const { $schema, ...body } = jsonSchemaOf(schema)
  return {
    $schema,
    $id: `https://codex-tasks.invalid/json-schema/${name}.schema.json`,
    title,
    description,
    ...body,
    ...extra,
  } satisfies Json
}

// What `viewJson` guarantees beyond the shape (tasks/view.ts).
const taskInvariants = {
  allOf: [
    {
      description: "Only a running task has a pid.",
      if: { properties: { state: { not: { const: "RUNNING" } } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords
      then: { properties: { pid: { type: "null" } } },
    },
    {
      description:
        "A task in the archive reads ARCHIVED (an ARCHIVED task outside it is an interrupted archive).",
      if: { properties: { archived: { const: true } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords
      then: { properties: { state: { const: "ARCHIVED" } } },
    },
  ],
}

/** The files of docs/json-schema/ that are generated (name → content), from `wire.ts`. */
export const documentedSchemas = (): Record<string, Json> => ({
  task: documented(
    "task",
    "codex-tasks task",
    "One task as printed by `status --json TASK`, and as each element of `status --json` with several ids / -a / -A, `ls --json`, `start --wait --json` and `send --wait --json`; MCP task_status. See docs/json-output.md. More keys may be added.",
    TaskJson,
    taskInvariants,
  ),
  "task-list": documented(
    "task-list",
    "codex-tasks task list",
    "`ls --json`, and `status --json` with several ids, -a or -A: an array of tasks (`ls`: newest first). See docs/json-output.md.",
    TaskListJson,
  ),
  start: documented(
    "start",
    "codex-tasks start --json",
    "What `start --json` prints: the id of the new task. See docs/json-output.md.",
    StartJson,
  ),
  send: documented(
    "send",
    "codex-tasks send --json",
    "What `send --json` prints: the prompt started a turn now, or was queued at a 1-based position among the waiting prompts. See docs/json-output.md.",
    SendJson,
    {
      allOf: [
        {
          description: "A queued prompt has its place.",
          if: { properties: { status: { const: "queued" } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords
          then: { required: ["position"], properties: { position: true } },
        },
      ],
    },
  ),
  diff: documented(
    "diff",
    "codex-tasks diff --json",
    "What `diff --json [--stat]` prints, and MCP task_diff's structuredContent: what a task changed (a worktree task: against its base; else the files its patches touched). See docs/json-output.md.",
    DiffJson,
  ),
  apply: documented(
    "apply",
    "codex-tasks apply --json",
    "What `apply --json` prints: the directory a worktree task's changes were applied to, the files, and whether they were committed. See docs/json-output.md.",
    ApplyJson,
  ),
  "log-entry": documented(
    "log-entry",
    "codex-tasks task.log line",
    "One line of `log --json` (the raw task.log JSONL, byte for byte): an event of `codex exec --json`, or a synthetic entry of codex-tasks (user_message, stderr, retry, invocation_failed, prompts_dropped, worker, notification). Unknown types may appear and keep whatever fields they have. See docs/json-output.md.",
    LogLineJson,
  ),
})
