import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect } from "effect"
import type * as z from "zod"
import { UsageError } from "../domain/exit.js"
import { archiveLines, stopLines, stoppedCount } from "../render/reports.js"
import { Tasks } from "../tasks/Tasks.js"
import { type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import { ArchiveArgs, ArchiveResult, StopArgs, StopResult } from "./schemas.js"

/** One named task, or every task: `all` only with `--allow-unsafe`. */
const targets = (
  ctx: McpContext,
  a: { readonly taskId?: string | undefined; readonly all?: boolean | undefined },
) =>
  Effect.gen(function* () {
    const all = a.all === true
    if (all === (a.taskId !== undefined)) {
      return yield* new UsageError({ message: "Give taskId or all: true (one of them)." })
    }
    if (all && !ctx.allowUnsafe) {
      return yield* new UsageError({
        message: "all: true is refused: the server was not started with --allow-unsafe.",
      })
    }
    return all ? ("all" as const) : [a.taskId as string]
  })

/** `task_stop`: the CLI's `stop` (waits until the task's processes are gone). */
const stop = (ctx: McpContext, a: z.infer<typeof StopArgs>) =>
  Effect.gen(function* () {
    const refs = yield* targets(ctx, a)
    const reports = yield* (yield* Tasks).stop(refs, {
      afterTurn: a.afterTurn === true,
      timeoutMs: (a.timeoutSeconds ?? 30) * 1000,
    })
    return {
      text: stopLines(reports, refs === "all")
        .map((l) => l.text)
        .join("\n"),
      structured: { reports, stopped: stoppedCount(reports) },
    } satisfies ToolAnswer
  })

/** `task_archive`: the CLI's `archive`; a named task that is running is an error. */
const archive = (ctx: McpContext, a: z.infer<typeof ArchiveArgs>) =>
  Effect.gen(function* () {
    const refs = yield* targets(ctx, a)
    const summary = yield* (yield* Tasks).archive(refs)
    return {
      text: archiveLines(summary, refs === "all").join("\n"),
      structured: { ...summary },
      isError: refs !== "all" && summary.skipped > 0,
    } satisfies ToolAnswer
  })

/** Registers `task_stop` and `task_archive`. */
export const registerControlTools = (server: McpServer, ctx: McpContext): void => {
  server.registerTool(
    "task_stop",
    {
      title: "Stop tasks",
      description:
        "Stop a task (or, with all: true, every task): interrupt codex, drop queued prompts, and wait until no process is left. afterTurn lets the current turn finish first.",
      inputSchema: StopArgs,
      outputSchema: StopResult,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, stop(ctx, args)),
  )
  server.registerTool(
    "task_archive",
    {
      title: "Archive tasks",
      description:
        "Move a task that is not running (or, with all: true, every such task) to the archive; it stays readable but takes no more prompts.",
      inputSchema: ArchiveArgs,
      outputSchema: ArchiveResult,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, archive(ctx, args)),
  )
}
