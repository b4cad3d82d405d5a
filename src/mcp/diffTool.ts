import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect } from "effect"
import * as z from "zod"
import { fromStoredExecOptions } from "../exec/options.js"
import { gateRead } from "../gate/gate.js"
import { patchText, statText } from "../render/changes.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks } from "../tasks/Tasks.js"
import { changesJson } from "../tasks/taskDiff.js"
import { readWorktree } from "../tasks/worktree.js"
import { type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import { DiffResult, taskId } from "./schemas.js"

/** `task_diff` arguments. */
export const DiffArgs = z.strictObject({
  taskId,
  stat: z
    .boolean()
    .optional()
    .describe("Only the changed files with added/deleted line counts (no patch)."),
})

/** `task_diff`: `diff --json [--stat] TASK` (refused for a task outside the allowed trees). */
const taskDiff = (ctx: McpContext, a: z.infer<typeof DiffArgs>) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const loc = yield* tasks.resolve(a.taskId, { includeArchived: true })
    const meta = yield* (yield* TaskStore).read(loc)
    yield* gateRead(ctx, loc.id, fromStoredExecOptions(meta.exec, meta), readWorktree(loc.dir))
    const stat = a.stat === true
    const { id, changes } = yield* tasks.changes(loc.id, { color: false, patch: !stat })
    return {
      text: stat ? statText(changes) : patchText(changes),
      structured: changesJson(id, changes, stat),
    } satisfies ToolAnswer
  })

/** Registers `task_diff`. */
export const registerDiffTool = (server: McpServer, ctx: McpContext): void => {
  server.registerTool(
    "task_diff",
    {
      title: "What a task changed",
      description: `What a task changed: for a worktree task everything on its branch and in its worktree against its base, else the files its patches touched (and their current git diff). \`stat: true\` lists the files with line counts and leaves the patch out.${ctx.allowUnsafe ? "" : ` Refused for a task working outside ${ctx.roots.join(", ")} (a worktree task: started outside them).`}`,
      inputSchema: DiffArgs,
      outputSchema: DiffResult,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    },
    (args, extra) => runTool(ctx, extra, taskDiff(ctx, args)),
  )
}
