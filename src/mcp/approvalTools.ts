import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect } from "effect"
import type * as z from "zod"
import { gatedAnswer } from "../gate/gatedTasks.js"
import { answerToolText } from "../render/reports.js"
import type { ApprovalAnswer } from "../store/approvals.js"
import { type McpContext, runTool, type ToolAnswer } from "./bridge.js"
import { ApprovalResult, ApproveArgs, DeclineArgs } from "./schemas.js"

/** Answers a task's approval request, gated like `task_send` (the task's recorded options). */
const answer = (ctx: McpContext, tool: string, taskId: string, given: Omit<ApprovalAnswer, "at">) =>
  Effect.map(
    gatedAnswer(ctx, taskId, given, tool),
    ({ id, waiting }) =>
      ({
        text: answerToolText(id, given.decision, waiting),
        structured: { id, decision: given.decision },
      }) satisfies ToolAnswer,
  )

/** Registers `task_approve` and `task_decline`. */
export const registerApprovalTools = (server: McpServer, ctx: McpContext): void => {
  server.registerTool(
    "task_approve",
    {
      title: "Approve a task's request",
      description:
        "Approve what a task started with approvals ask is waiting for (task_status shows it under waiting); for a request for input, give answers.",
      inputSchema: ApproveArgs,
      outputSchema: ApprovalResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    (a: z.infer<typeof ApproveArgs>, extra) =>
      runTool(
        ctx,
        extra,
        answer(ctx, "task_approve", a.taskId, {
          decision: a.forSession === true ? "acceptForSession" : "accept",
          ...(a.answers === undefined ? {} : { answers: a.answers }),
        }),
      ),
  )
  server.registerTool(
    "task_decline",
    {
      title: "Decline a task's request",
      description:
        "Decline what a task started with approvals ask is waiting for; codex goes on without it.",
      inputSchema: DeclineArgs,
      outputSchema: ApprovalResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    (a: z.infer<typeof DeclineArgs>, extra) =>
      runTool(
        ctx,
        extra,
        answer(ctx, "task_decline", a.taskId, {
          decision: "decline",
          ...(a.message === undefined ? {} : { message: a.message }),
        }),
      ),
  )
}
