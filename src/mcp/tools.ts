import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect } from "effect"
import type * as z from "zod"
import { UsageError } from "../domain/exit.js"
import { gatedSend, gatedStart } from "../gate/gatedTasks.js"
import { sendText } from "../render/reports.js"
import { renderStatus, renderTaskTable } from "../render/status.js"
import { makeStyle } from "../render/style.js"
import { Tasks } from "../tasks/Tasks.js"
import { viewJson } from "../tasks/view.js"
import { type Extra, type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import {
  ListArgs,
  ListResult,
  SendArgs,
  SendResult,
  StartArgs,
  StartResult,
  StatusArgs,
  TaskResult,
} from "./schemas.js"
import { withSlotProgress } from "./startNotifications.js"

const plain = makeStyle(false)

/** `task_start`: the CLI's `start` (returns once codex reported the thread id). */
const start = (ctx: McpContext, args: z.infer<typeof StartArgs>, extra: Extra) =>
  Effect.gen(function* () {
    const { id } = yield* withSlotProgress(extra, (onNotice) => gatedStart(ctx, args, onNotice))
    return { text: `Task ${id} started.`, structured: { id } } satisfies ToolAnswer
  })

/** `task_send`: the CLI's `send` (refused for a task recorded with options the gate refuses). */
const send = (ctx: McpContext, a: z.infer<typeof SendArgs>) =>
  Effect.gen(function* () {
    const receipt = yield* gatedSend(ctx, a.taskId, a.prompt, {
      steer: a.steer,
      backend: a.backend,
    })
    const { logOffset: _, ...shown } = receipt
    return {
      text: sendText(receipt, a.steer === true),
      structured: shown,
    } satisfies ToolAnswer
  })

/** `task_status`: one task's view (`status --json TASK`). */
const status = (a: z.infer<typeof StatusArgs>) =>
  Effect.gen(function* () {
    const { views, broken } = yield* (yield* Tasks).select({ _tag: "Ids", refs: [a.taskId] })
    const view = views[0]
    if (view === undefined) {
      return yield* new UsageError({ message: broken[0]?.message ?? `No task ${a.taskId}.` })
    }
    return {
      text: renderStatus(view, "iso", plain),
      structured: viewJson(view),
    } satisfies ToolAnswer
  })

/** `task_list`: the CLI's `ls` (newest first). */
const list = (a: z.infer<typeof ListArgs>) =>
  Effect.gen(function* () {
    const states = a.states ?? []
    const { views, broken } = yield* (yield* Tasks).list({
      includeArchived: a.includeArchived === true || states.includes("ARCHIVED"),
      states,
    })
    const table = views.length === 0 ? "No tasks found." : renderTaskTable(views, "iso")
    const problems = broken.map((b) => `\n${b.message}`).join("")
    return {
      text: `${table}${problems}`,
      structured: { tasks: views.map(viewJson), unreadable: broken },
    } satisfies ToolAnswer
  })

/** Registers `task_start`, `task_send`, `task_status` and `task_list`. */
export const registerTaskTools = (server: McpServer, ctx: McpContext): void => {
  server.registerTool(
    "task_start",
    {
      title: "Start a Codex task",
      description: `Start a Codex agent session in the background with a first prompt; returns its id once codex has started the thread. Follow it with task_status / task_log.${ctx.allowUnsafe ? "" : ` This server refuses sandbox "danger-full-access", dangerouslyBypassApprovalsAndSandbox, config, configFile, profile, extraArgs, onFinish, webhook and a network repoUrl, and accepts workingDir, images and a local repoUrl only inside ${ctx.roots.join(", ")}.`}`,
      inputSchema: StartArgs,
      outputSchema: StartResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    (args, extra) => runTool(ctx, extra, start(ctx, args, extra)),
  )
  server.registerTool(
    "task_send",
    {
      title: "Send a prompt to a task",
      description: `Send a follow-up prompt to a task: it runs now if the task is idle, otherwise after the prompts already queued.${ctx.allowUnsafe ? "" : " Refused for a task recorded with options task_start would refuse here."}`,
      inputSchema: SendArgs,
      outputSchema: SendResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    (args, extra) => runTool(ctx, extra, send(ctx, args)),
  )
  server.registerTool(
    "task_status",
    {
      title: "Task status",
      description:
        "A task's state (RUNNING, STOPPED, DIED, ARCHIVED), outcome, last prompt and last result.",
      inputSchema: StatusArgs,
      outputSchema: TaskResult,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, status(args)),
  )
  server.registerTool(
    "task_list",
    {
      title: "List tasks",
      description: "List tasks, newest first (archived ones only when asked).",
      inputSchema: ListArgs,
      outputSchema: ListResult,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, list(args)),
  )
}
