/**
 * The outcome of one `codex exec` run, decided from everything it left behind (exit status,
 * stdout events, stderr). A pure function: the exit code alone never decides (BEHAVIOR.md §6);
 * the text of `turn.failed` and of stderr does (BEHAVIOR.md §7).
 */

import {
  AuthenticationFailed,
  CodexNotFound,
  ConfigRejected,
  ContextWindowExceeded,
  type ExecError,
  type ExecErrorEvidence,
  KilledBySignal,
  MissingThreadStarted,
  QuotaExceeded,
  RateLimited,
  ReconnectLoop,
  SpawnFailed,
  StdoutClosed,
  ThreadMismatch,
  TransientFailure,
  TurnFailed,
  UnknownExecError,
  UnknownThread,
  UntrustedDirectory,
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

// Stderr noise that says nothing: the empty frames of a Rust backtrace.
const isNoise = (line: string): boolean =>
  line.trim() === "" || /^\s*\d+: <unknown>$/.test(line) || line.trim() === "Stack backtrace:"

// Stderr lines codex also prints in runs that succeed (BEHAVIOR.md §3, §7): never the reason.
const informational: ReadonlyArray<RegExp> = [
  /^Reading (?:additional input|prompt) from stdin\.\.\.$/,
  /^WARNING: proceeding, even though we could not create PATH aliases/,
  / ERROR codex_core::session: failed to record rollout items/,
  / ERROR codex_core::tools::router: /,
  /^Warning: no last agent message/,
]
const isInformational = (line: string): boolean => informational.some((p) => p.test(line))

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

/** The block of stderr starting at the first line matching `start`, up to a blank line. */
const stderrBlock = (lines: ReadonlyArray<string>, start: RegExp): string | undefined => {
  const i = lines.findIndex((l) => start.test(l))
  if (i < 0) return undefined
  const block: Array<string> = []
  for (const line of lines.slice(i, i + 8)) {
    if (block.length > 0 && (line.trim() === "" || line.trim() === "Stack backtrace:")) break
    block.push(line)
  }
  return block.join("\n").replace(/^Error: /, "")
}

type Make = (said: string, evidence: ExecErrorEvidence) => ExecError

// `turn.failed` texts (BEHAVIOR.md §7), first match wins. The ’ in "We’re currently experiencing
// high demand" is typographic, so the pattern avoids it.
const turnRules: ReadonlyArray<readonly [RegExp, Make]> = [
  [
    /context window|context_length_exceeded/i,
    (said, evidence) =>
      new ContextWindowExceeded({
        message: `The conversation no longer fits in the model's context window; continue in a new task. ${said}`,
        evidence,
      }),
  ],
  [
    /^Quota exceeded|insufficient_quota/,
    (said, evidence) =>
      new QuotaExceeded({
        message: `The model provider reports that the account is out of quota. ${said}`,
        evidence,
      }),
  ],
  [
    /last status: 429|429 Too Many Requests|rate_limit_exceeded/,
    (said, evidence) =>
      new RateLimited({
        message: `The model provider kept rate-limiting the request (HTTP 429) until codex gave up; a later retry may work. ${said}`,
        evidence,
      }),
  ],
  [
    /unexpected status 401|401 Unauthorized|invalid_api_key/,
    (said, evidence) =>
      new AuthenticationFailed({
        message: `The model provider rejected the credentials (HTTP 401); check the API key or log in again. ${said}`,
        evidence,
      }),
  ],
  [
    /currently experiencing high demand|^Connection failed|^stream disconnected before completion|Reconnecting\.\.\. waiting for network|(?:unexpected status|last status:) 5\d\d\b/,
    (said, evidence) =>
      new TransientFailure({
        message: `The model provider or the network failed temporarily; a retry may work. ${said}`,
        evidence,
      }),
  ],
]

/** Failures codex printed as `turn.failed` (or a final `error` event), by their text. */
const byTurnMessage = (text: string, evidence: ExecErrorEvidence): ExecError => {
  const said = `codex said: ${text}`
  const rule = turnRules.find(([pattern]) => pattern.test(text))
  return rule !== undefined
    ? rule[1](said, evidence)
    : new TurnFailed({ message: `The turn failed. ${said}`, evidence })
}

/** Failures codex reported only on stderr, usually before `thread.started`. */
const byStderr = (
  stderr: ReadonlyArray<string>,
  exitCode: number | null,
  evidence: ExecErrorEvidence,
  requestedThreadId: string | undefined,
): ExecError | undefined => {
  const rollout = stderrBlock(stderr, /no rollout found for thread id/)
  if (rollout !== undefined) {
    const threadId = /no rollout found for thread id (\S+)/.exec(rollout)?.[1] ?? requestedThreadId
    return new UnknownThread({
      message: `codex has no stored thread${threadId === undefined ? "" : ` ${threadId}`} to resume (it may belong to another CODEX_HOME or have been run with --ephemeral). codex said: ${rollout}`,
      evidence,
      ...(threadId === undefined ? {} : { threadId }),
    })
  }
  const untrusted = stderr.find((l) => l.includes("Not inside a trusted directory"))
  if (untrusted !== undefined) {
    return new UntrustedDirectory({
      message: `codex refused to run here: ${untrusted.trim()}`,
      evidence,
    })
  }
  const config =
    stderrBlock(stderr, /^Error loading config\.toml/) ??
    stderrBlock(stderr, /^Error: Model provider .* not found/)
  if (config !== undefined) {
    return new ConfigRejected({ message: `codex rejected its configuration: ${config}`, evidence })
  }
  const output = stderrBlock(stderr, /^Error: Failed to open last message file/)
  if (output !== undefined) {
    return new ConfigRejected({ message: `codex could not start: ${output}`, evidence })
  }
  const cd = stderrBlock(stderr, /^Error: No such file or directory \(os error 2\)/)
  if (cd !== undefined) {
    return new ConfigRejected({
      message: `codex could not start: ${cd} (codex names no path; usually the working directory does not exist)`,
      evidence,
    })
  }
  const emptyPrompt = stderr.find((l) => l.startsWith("No prompt provided"))
  if (emptyPrompt !== undefined) {
    return new ConfigRejected({ message: `codex got no prompt: ${emptyPrompt}`, evidence })
  }
  if (exitCode === 2) {
    const usage = stderr.filter((l) => /^(error|Usage):/.test(l)).join(" — ")
    return new ConfigRejected({
      message: `codex rejected its command line: ${usage || "usage error (exit code 2)"}`,
      evidence,
    })
  }
  return undefined
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
  const spawn = evidence.spawnError
  if (spawn !== undefined) {
    return spawn.code === "ENOENT"
      ? failed(
          undefined,
          new CodexNotFound({
            message: `The codex executable was not found (${spawn.message}); install codex or pass --codex-bin.`,
            evidence: errorEvidence,
          }),
        )
      : failed(
          undefined,
          new SpawnFailed({
            message:
              spawn.code === "E2BIG"
                ? `codex could not be started: its command line is too long (${spawn.message}).`
                : `codex could not be started: ${spawn.message}`,
            evidence: errorEvidence,
            code: spawn.code,
          }),
        )
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
