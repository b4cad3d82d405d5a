import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js"
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from "@modelcontextprotocol/sdk/types.js"
import { Cause, type Effect, Exit, type ManagedRuntime, Option } from "effect"
import type { GateContext } from "../gate/gate.js"
import type { TaskStore } from "../store/TaskStore.js"
import type { Tasks } from "../tasks/Tasks.js"

/** The services every tool runs with, built once per server. */
export type McpRuntime = ManagedRuntime.ManagedRuntime<Tasks | TaskStore, never>

/** What the MCP handlers share: the runtime and the server's flags (the gate's, gate/gate.ts). */
export interface McpContext extends GateContext {
  readonly runtime: McpRuntime
}

/** The SDK's per-request extra (abort signal, progress token, notifications). */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>

/** A tool's answer: readable text plus the structured form its output schema describes. */
export interface ToolAnswer {
  readonly text: string
  readonly structured: Record<string, unknown>
  /** The operation ran but did not do what was asked (e.g. archiving a running task). */
  readonly isError?: boolean
}

/** A failed tool call as the model sees it. */
export const toolError = (message: string): CallToolResult => ({
  content: [{ type: "text", text: message }],
  isError: true,
})

const answerOf = (a: ToolAnswer): CallToolResult => ({
  content: [{ type: "text", text: a.text }],
  structuredContent: a.structured,
  ...(a.isError === true ? { isError: true } : {}),
})

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
    ? e.message
    : String(e)

/** Writes a diagnostic line to stderr (stdout carries the protocol only). */
export const diagnose = (text: string): void => {
  process.stderr.write(`codex-tasks mcp: ${text}\n`)
}

/**
 * Runs a tool's program on the server's runtime. Typed failures become tool errors carrying the
 * error's message (the CLI prints the same one); the client's cancellation interrupts the program.
 */
export const runTool = <E>(
  ctx: McpContext,
  extra: Extra,
  program: Effect.Effect<ToolAnswer, E, Tasks | TaskStore>,
): Promise<CallToolResult> =>
  ctx.runtime.runPromiseExit(program, { signal: extra.signal }).then(resultOf)

/** A tool program's exit as the model sees it (typed failures: tool errors with their message). */
export const resultOf = <E>(exit: Exit.Exit<ToolAnswer, E>): CallToolResult => {
  if (Exit.isSuccess(exit)) return answerOf(exit.value)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) return toolError(messageOf(failure.value))
  if (Cause.isInterruptedOnly(exit.cause)) return toolError("Cancelled.")
  diagnose(`internal error: ${Cause.pretty(exit.cause)}`)
  return toolError(`internal error: ${messageOf(Cause.squash(exit.cause))}`)
}

/** Runs a read of the store for a resource handler; failures reject with their message. */
export const runRead = async <A, E>(
  ctx: McpContext,
  program: Effect.Effect<A, E, Tasks | TaskStore>,
): Promise<A> => {
  const exit = await ctx.runtime.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  throw new Error(Option.isSome(failure) ? messageOf(failure.value) : Cause.pretty(exit.cause))
}
