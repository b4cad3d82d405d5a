/**
 * The outcome of one `codex exec` run, decided from everything it left behind (exit status,
 * stdout events, stderr). A pure function: the exit code alone never decides (BEHAVIOR.md §6);
 * the text of `turn.failed` and of stderr does (BEHAVIOR.md §7), by the tables in
 * `classifyRules.ts`; this file scans the events and decides which evidence counts, in order.
 */

import {
  type ExecError,
  type ExecErrorEvidence,
  KilledBySignal,
  MissingThreadStarted,
  ReconnectLoop,
  StdoutClosed,
  ThreadMismatch,
  UnknownExecError,
} from "../domain/errors.js"
import {
  isErrorEvent,
  isItemEvent,
  isThreadStarted,
  isTurnCompleted,
  isTurnFailed,
  isUnknownItem,
  type Usage,
} from "../domain/events.js"
import {
  bySpawnError,
  byStderr,
  byTurnMessage,
  isInformational,
  isNoise,
  stderrBlock,
} from "./classifyRules.js"
import type { ExecLine } from "./decode.js"

/** Everything observed about one finished `codex exec` run. */
export interface ExecEvidence {
  readonly exitCode: number | null
  /** e.g. "SIGTERM" */
  readonly signal: string | null
  readonly spawnError?: { readonly code: string; readonly message: string } | undefined
  readonly stderrLines: ReadonlyArray<string>
  /** every stdout line, decoded */
  readonly lines: ReadonlyArray<ExecLine>
  /** set for `resume`: the thread id asked for */
  readonly requestedThreadId?: string | undefined
  /** codex-tasks itself sent SIGINT/SIGTERM (stop) */
  readonly interruptedByUs: boolean
  /** codex-tasks killed codex because it was stuck in a reconnect loop */
  readonly reconnectStall?: boolean | undefined
}

/** How a run ended. `usage` is the thread's running total as codex reports it. */
export type ExecOutcome =
  | {
      readonly _tag: "Completed"
      readonly threadId: string
      readonly usage: Usage | undefined
      readonly finalMessage: string | undefined
    }
  | { readonly _tag: "Interrupted"; readonly threadId: string | undefined }
  | { readonly _tag: "Failed"; readonly threadId: string | undefined; readonly error: ExecError }

const STDERR_TAIL = 20
const LAST_EVENTS = 10

interface Scan {
  threadId: string | undefined
  completedUsage: Usage | undefined
  completed: boolean
  failedMessage: string | undefined
  lastErrorMessage: string | undefined
  finalMessage: string | undefined
}

const scan = (lines: ReadonlyArray<ExecLine>): Scan => {
  const s: Scan = {
    threadId: undefined,
    completedUsage: undefined,
    completed: false,
    failedMessage: undefined,
    lastErrorMessage: undefined,
    finalMessage: undefined,
  }
  for (const line of lines) {
    if (line._tag !== "Event") continue
    const e = line.event
    if (isThreadStarted(e)) s.threadId ??= e.thread_id
    else if (isTurnCompleted(e)) {
      s.completed = true
      s.completedUsage = e.usage
      s.failedMessage = undefined
    } else if (isTurnFailed(e)) {
      s.completed = false
      s.failedMessage = e.error.message
    } else if (isErrorEvent(e)) {
      // `Reconnecting...` reports codex's own retries; they do not end the run.
      if (!e.message.startsWith("Reconnecting...")) s.lastErrorMessage = e.message
    } else if (isItemEvent(e) && e.type === "item.completed") {
      const item = e.item
      if (!isUnknownItem(item) && item.type === "agent_message") s.finalMessage = item.text
    }
  }
  return s
}

const failed = (threadId: string | undefined, error: ExecError): ExecOutcome => ({
  _tag: "Failed",
  threadId,
  error,
})

const exitText = (evidence: ExecEvidence): string =>
  evidence.signal !== null
    ? `was killed by ${evidence.signal}`
    : `exited with code ${evidence.exitCode ?? "unknown"}`

/** Decides how a run ended: Completed, Interrupted by us, or Failed with a classified error. */
export const classify = (evidence: ExecEvidence): ExecOutcome => {
  const meaningful = evidence.stderrLines.filter((l) => !isNoise(l))
  const errorEvidence: ExecErrorEvidence = {
    exitCode: evidence.exitCode,
    signal: evidence.signal,
    stderrTail: meaningful.slice(-STDERR_TAIL),
    lastEvents: evidence.lines.slice(-LAST_EVENTS).map((l) => l.raw),
  }
  if (evidence.spawnError !== undefined) {
    return failed(undefined, bySpawnError(evidence.spawnError, errorEvidence))
  }

  const s = scan(evidence.lines)
  const requested = evidence.requestedThreadId
  if (requested !== undefined && s.threadId !== undefined && s.threadId !== requested) {
    return failed(
      s.threadId,
      new ThreadMismatch({
        message: `codex was asked to resume thread ${requested} but ran thread ${s.threadId} instead (it starts a new thread when it cannot resolve the id).`,
        evidence: errorEvidence,
        requested,
        actual: s.threadId,
      }),
    )
  }
  if (s.completed && s.threadId !== undefined) {
    return {
      _tag: "Completed",
      threadId: s.threadId,
      usage: s.completedUsage,
      finalMessage: s.finalMessage,
    }
  }
  if (s.failedMessage !== undefined) {
    return failed(s.threadId, byTurnMessage(s.failedMessage, errorEvidence))
  }
  if (evidence.reconnectStall === true) {
    return failed(
      s.threadId,
      new ReconnectLoop({
        message:
          "codex could not reach the model provider and kept reconnecting (Reconnecting... waiting for network), so it was stopped; a later retry may work.",
        evidence: errorEvidence,
      }),
    )
  }
  if (evidence.interruptedByUs) return { _tag: "Interrupted", threadId: s.threadId }

  const panic = meaningful.find((l) => l.includes("failed printing to stdout"))
  if (evidence.exitCode === 101 || panic !== undefined) {
    return failed(
      s.threadId,
      new StdoutClosed({
        message: `codex crashed because its output was closed before the run ended (exit code ${evidence.exitCode ?? "unknown"})${panic === undefined ? "" : `: ${panic}`}`,
        evidence: errorEvidence,
      }),
    )
  }
  const fromStderr = byStderr(evidence.stderrLines, evidence.exitCode, errorEvidence, requested)
  if (fromStderr !== undefined) return failed(s.threadId, fromStderr)
  if (evidence.signal !== null) {
    return failed(
      s.threadId,
      new KilledBySignal({
        message: `codex was killed by ${evidence.signal}, which codex-tasks did not send, ${s.threadId === undefined ? "before it started a thread" : "before the turn finished"}.`,
        evidence: errorEvidence,
        signal: evidence.signal,
      }),
    )
  }
  if (s.lastErrorMessage !== undefined) {
    return failed(s.threadId, byTurnMessage(s.lastErrorMessage, errorEvidence))
  }
  const lastWords =
    stderrBlock(evidence.stderrLines, /^Error: /) ??
    meaningful.filter((l) => !isInformational(l)).at(-1)
  const said = lastWords === undefined ? "" : `; stderr: ${lastWords}`
  if (s.threadId === undefined) {
    return failed(
      undefined,
      new MissingThreadStarted({
        message: `codex ${exitText(evidence)} without starting a thread${said || " and without saying why."}`,
        evidence: errorEvidence,
      }),
    )
  }
  // Exit 1 with no turn event and nothing on stderr is what a SIGINT does (BEHAVIOR.md §9).
  const hint =
    evidence.exitCode === 1 && lastWords === undefined ? " (codex ends like this on SIGINT)" : ""
  return failed(
    s.threadId,
    new UnknownExecError({
      message: `codex ${exitText(evidence)} before the turn finished${said || ` without saying why${hint}.`}`,
      evidence: errorEvidence,
    }),
  )
}
