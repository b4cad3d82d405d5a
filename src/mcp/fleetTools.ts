/**
 * The MCP tools of `mcp --cluster`: the same names, arguments and answers as the local ones
 * (tools.ts, taskLog.ts, stopArchiveTools.ts), done on the whole fleet through cluster/client.ts.
 * task_send (steer included), task_diff, task_approve and task_decline only for the tasks this
 * server started, unless --allow-unsafe (fleetGate.ts).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect } from "effect"
import * as z from "zod"
import {
  answerOn,
  archiveOn,
  archiveReportOf,
  changesOf,
  listFleet,
  type Placed,
  pickHost,
  requireLiveHost,
  resolveTask,
  sendTo,
  startOn,
  statusOf,
  stopOn,
  warmEngine,
} from "../cluster/client.js"
import { UsageError } from "../domain/exit.js"
import { gateFleetStartRequest } from "../gate/fleetGate.js"
import type { GateContext } from "../gate/gate.js"
import { patchText, statText } from "../render/changes.js"
import { renderFleetStatus, renderFleetTable } from "../render/fleet.js"
import {
  answerToolText,
  archiveLines,
  sendText,
  stopLines,
  stoppedCount,
} from "../render/reports.js"
import type { ArchiveReport } from "../tasks/archive.js"
import type { StopReport } from "../tasks/stop.js"
import type { ToolAnswer } from "./bridge.js"
import { DiffArgs } from "./diffTool.js"
import { fleetLog } from "./fleetLog.js"
import {
  ApprovalResult,
  ApproveArgs,
  ArchiveArgs,
  ArchiveResult,
  DeclineArgs,
  DiffResult,
  ListArgs,
  ListResult,
  LogArgs,
  LogResult,
  SendArgs,
  SendResult,
  StartArgs,
  StartResult,
  StatusArgs,
  StopArgs,
  StopResult,
  TaskResult,
} from "./schemas.js"

/** Runs a tool's program against the fleet (the server's runtime) and answers the client. */
export type RunFleetTool = (
  program: Effect.Effect<ToolAnswer, unknown, FleetServices>,
  signal: AbortSignal,
) => Promise<import("@modelcontextprotocol/sdk/types.js").CallToolResult>

/** The services the fleet's client operations run with. */
export type FleetServices = Effect.Effect.Context<ReturnType<typeof listFleet>> | FleetEngineOf

type FleetEngineOf = Effect.Effect.Context<typeof warmEngine>

/** What the fleet tools share: the gate's flags and the ids of the tasks this server started. */
export interface FleetToolContext extends GateContext {
  readonly run: RunFleetTool
  /** Tasks started through this server: they went through its gate, so `task_send` may feed them. */
  readonly startedHere: Set<string>
}

const refuse = (message: string) => Effect.fail(new UsageError({ message }))

/** `task_start` over the fleet: its arguments, plus the host to run on. */
const FleetStartArgs = StartArgs.extend({
  host: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The host to run the task on (default: the live runner with the fewest running tasks).",
    ),
})

const start = (ctx: FleetToolContext, input: z.infer<typeof FleetStartArgs>) =>
  Effect.gen(function* () {
    const { host: on, ...rest } = input
    const request = yield* gateFleetStartRequest(ctx, rest)
    const [host] = yield* Effect.all([pickHost(on), warmEngine], { concurrency: 2 })
    const placed = yield* startOn(host, request)
    ctx.startedHere.add(placed.id)
    return {
      text: `Task ${placed.id} started on host ${placed.host}.`,
      structured: { id: placed.id, host: placed.host },
    } satisfies ToolAnswer
  })

const send = (ctx: FleetToolContext, a: z.infer<typeof SendArgs>) =>
  Effect.gen(function* () {
    const [task] = yield* Effect.all([resolveTask(a.taskId), warmEngine], { concurrency: 2 })
    yield* startedHere(ctx, "task_send to", task)
    // An answer needs the receipt: a prompt for an unreachable host is not sent (the CLI's `send` queues it).
    yield* requireLiveHost(task, "send a prompt to")
    const steer = a.steer === true
    const receipt = yield* sendTo(task, a.prompt, undefined, undefined, {
      steer,
      backend: a.backend,
    })
    if (receipt === undefined || receipt.status === "accepted")
      return yield* refuse(
        `host ${task.host} went away: the prompt was kept and runs when its runner is back.`,
      )
    return {
      text: sendText({ ...receipt, status: receipt.status }, steer),
      structured: { ...receipt },
    } satisfies ToolAnswer
  })

/**
 * Refuses a task not started through this server (unless --allow-unsafe): its options, which
 * every resume replays, are on its host, where this server cannot check them.
 */
const startedHere = (ctx: FleetToolContext, what: string, task: Placed) =>
  ctx.allowUnsafe || ctx.startedHere.has(task.id)
    ? Effect.void
    : refuse(
        `${what} task ${task.id} is refused: it was not started through this server, and its options (every resume replays them) are on host ${task.host}, where this server cannot check them; the server was not started with --allow-unsafe.`,
      )

/** `task_approve` / `task_decline` over the fleet: the answer left on the task's host. */
const answer = (ctx: FleetToolContext, tool: string, taskId: string, given: AnswerGiven) =>
  Effect.gen(function* () {
    const [task] = yield* Effect.all([resolveTask(taskId), warmEngine], { concurrency: 2 })
    yield* startedHere(ctx, tool, task)
    const { id, waiting } = yield* answerOn(task, given)
    return {
      text: answerToolText(id, given.decision, waiting),
      structured: { id, decision: given.decision },
    } satisfies ToolAnswer
  })

type AnswerGiven = Parameters<typeof answerOn>[1]

const status = (a: z.infer<typeof StatusArgs>) =>
  Effect.gen(function* () {
    const task = yield* statusOf(yield* resolveTask(a.taskId))
    return { text: renderFleetStatus(task, "iso"), structured: { ...task } } satisfies ToolAnswer
  })

const list = (a: z.infer<typeof ListArgs>) =>
  Effect.gen(function* () {
    const states = a.states ?? []
    const tasks = yield* listFleet(a.includeArchived === true || states.includes("ARCHIVED"))
    const shown = states.length === 0 ? tasks : tasks.filter((t) => states.includes(t.state))
    return {
      text: shown.length === 0 ? "No tasks found." : renderFleetTable(shown, "iso"),
      structured: { tasks: shown, unreadable: [] },
    } satisfies ToolAnswer
  })

/** One named task: `all: true` is refused over the fleet. */
const oneTask = (a: {
  readonly taskId?: string | undefined
  readonly all?: boolean | undefined
}) =>
  a.all === true
    ? refuse("all: true is not available with --cluster: name one task.")
    : a.taskId === undefined
      ? refuse("Give taskId.")
      : Effect.succeed(a.taskId)

const stop = (a: z.infer<typeof StopArgs>) =>
  Effect.gen(function* () {
    const task = yield* resolveTask(yield* oneTask(a))
    const r = yield* stopOn(task, a.afterTurn === true, (a.timeoutSeconds ?? 30) * 1000)
    const report: StopReport =
      r.status === "stopped" || r.status === "not-running"
        ? { id: task.id, status: r.status }
        : { id: task.id, status: r.status, message: r.message }
    const reports = [report]
    return {
      text: stopLines(reports, false)
        .map((l) => l.text)
        .join("\n"),
      structured: { reports, stopped: stoppedCount(reports) },
    } satisfies ToolAnswer
  })

const archive = (a: z.infer<typeof ArchiveArgs>) =>
  Effect.gen(function* () {
    const task = yield* resolveTask(yield* oneTask(a))
    const r = yield* archiveOn(task)
    const report: ArchiveReport = archiveReportOf(task, r)
    const summary = {
      reports: [report],
      archived: r.status === "archived" ? 1 : 0,
      skipped: r.status === "skipped" ? 1 : 0,
    }
    return {
      text: archiveLines(summary, false).join("\n"),
      structured: summary,
      isError: summary.skipped > 0,
    } satisfies ToolAnswer
  })

/** `task_diff` over the fleet: computed on the task's host (the JSON and text of its `diff`). */
const diff = (ctx: FleetToolContext, a: z.infer<typeof DiffArgs>) =>
  Effect.gen(function* () {
    const task = yield* resolveTask(a.taskId)
    if (!ctx.allowUnsafe && !ctx.startedHere.has(task.id)) {
      return yield* refuse(
        `task_diff of task ${task.id} is refused: it was not started through this server, and where it works (on host ${task.host}) cannot be checked from here; the server was not started with --allow-unsafe.`,
      )
    }
    const stat = a.stat === true
    const { diff } = yield* changesOf(task, false, !stat)
    const shown = { ...diff, touched: diff.touched ?? [], patch: diff.patch ?? "" }
    return {
      text: stat ? statText(shown) : patchText(shown),
      structured: { ...diff },
    } satisfies ToolAnswer
  })

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true }

/** Registers the fleet's task tools on `server`. */
export const registerFleetTools = (server: McpServer, ctx: FleetToolContext): void => {
  const tool =
    <A>(program: (args: A) => Effect.Effect<ToolAnswer, unknown, FleetServices>) =>
    (args: A, extra: { readonly signal: AbortSignal }) =>
      ctx.run(program(args), extra.signal)
  server.registerTool(
    "task_start",
    {
      title: "Start a Codex task",
      description: `Start a Codex agent session on a host of the fleet (host, else the live runner with the fewest running tasks) with a first prompt; returns its id and host once codex has started the thread. Follow it with task_status / task_log.${ctx.allowUnsafe ? "" : ` This server refuses sandbox "danger-full-access", dangerouslyBypassApprovalsAndSandbox, config, configFile, profile, extraArgs, onFinish, webhook, a network repoUrl not under --allow-repo, and every path (workingDir, images, a local repoUrl): paths are on the task's host, which it cannot check.`}`,
      inputSchema: FleetStartArgs,
      outputSchema: StartResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    tool((a: z.infer<typeof FleetStartArgs>) => start(ctx, a)),
  )
  server.registerTool(
    "task_send",
    {
      title: "Send a prompt to a task",
      description: `Send a follow-up prompt to a task of the fleet: it runs now if the task is idle, otherwise after the prompts already queued.${ctx.allowUnsafe ? "" : " Only for tasks started through this server."}`,
      inputSchema: SendArgs,
      outputSchema: SendResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    tool((a: z.infer<typeof SendArgs>) => send(ctx, a)),
  )
  server.registerTool(
    "task_status",
    {
      title: "Task status",
      description:
        "A task's state (RUNNING, STOPPED, DIED, ARCHIVED), outcome, last prompt and last result, and its host.",
      inputSchema: StatusArgs,
      outputSchema: TaskResult,
      annotations: READ_ONLY,
    },
    tool(status),
  )
  server.registerTool(
    "task_list",
    {
      title: "List tasks",
      description:
        "List the fleet's tasks with their hosts, newest first (archived ones only when asked).",
      inputSchema: ListArgs,
      outputSchema: ListResult,
      annotations: READ_ONLY,
    },
    tool(list),
  )
  server.registerTool(
    "task_log",
    {
      title: "Task transcript",
      description:
        "A task's transcript (text) or raw JSONL log from its host, one page per call (at most 1 MiB). `hasMore: true`: call again with `since: nextOffset`; `tail` starts N events before the end; `waitSeconds` waits for new events after `since` while the task runs.",
      inputSchema: LogArgs,
      outputSchema: LogResult,
      annotations: READ_ONLY,
    },
    tool(fleetLog),
  )
  server.registerTool(
    "task_diff",
    {
      title: "What a task changed",
      description: `What a task changed, computed on its host: for a worktree task everything on its branch and in its worktree against its base, else the files its patches touched. \`stat: true\` lists the files with line counts and leaves the patch out.${ctx.allowUnsafe ? "" : " Only for tasks started through this server."}`,
      inputSchema: DiffArgs,
      outputSchema: DiffResult,
      annotations: READ_ONLY,
    },
    tool((a: z.infer<typeof DiffArgs>) => diff(ctx, a)),
  )
  server.registerTool(
    "task_stop",
    {
      title: "Stop a task",
      description:
        "Stop a task on its host: interrupt codex, drop queued prompts, and wait until no process is left. afterTurn lets the current turn finish first.",
      inputSchema: StopArgs,
      outputSchema: StopResult,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    tool(stop),
  )
  server.registerTool(
    "task_archive",
    {
      title: "Archive a task",
      description:
        "Move a task that is not running to its host's archive; it stays readable but takes no more prompts.",
      inputSchema: ArchiveArgs,
      outputSchema: ArchiveResult,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    tool(archive),
  )
  server.registerTool(
    "task_approve",
    {
      title: "Approve a task's request",
      description: `Approve what a task of the fleet started with approvals ask is waiting for (task_status shows it under waiting); for a request for input, give answers.${ctx.allowUnsafe ? "" : " Only for tasks started through this server."}`,
      inputSchema: ApproveArgs,
      outputSchema: ApprovalResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    tool((a: z.infer<typeof ApproveArgs>) =>
      answer(ctx, "task_approve to", a.taskId, {
        decision: a.forSession === true ? "acceptForSession" : "accept",
        ...(a.answers === undefined ? {} : { answers: a.answers }),
      }),
    ),
  )
  server.registerTool(
    "task_decline",
    {
      title: "Decline a task's request",
      description: `Decline what a task of the fleet started with approvals ask is waiting for; codex goes on without it.${ctx.allowUnsafe ? "" : " Only for tasks started through this server."}`,
      inputSchema: DeclineArgs,
      outputSchema: ApprovalResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    tool((a: z.infer<typeof DeclineArgs>) =>
      answer(ctx, "task_decline to", a.taskId, {
        decision: "decline",
        ...(a.message === undefined ? {} : { message: a.message }),
      }),
    ),
  )
}
