import { Context, type Effect, Option, type Scope, Stream } from "effect"
import type { ExecError } from "../domain/errors.js"
import type { ThreadEvent } from "../domain/events.js"
import type { ProcessIdentity } from "../processes/identity.js"
import type { ExecOutcome } from "./classify.js"
import type { ExecLine } from "./decode.js"
import type { ExecOptions } from "./options.js"

/** One question of codex's request for input, in the order codex asked them. */
export interface InputQuestion {
  readonly id: string
  readonly question: string
  readonly header?: string | undefined
  /** The choices offered (labels); an answer may also be free text when `other` is true. */
  readonly options?: ReadonlyArray<string> | undefined
  readonly other?: boolean | undefined
}

/**
 * What codex asks for and waits on (`--approvals ask`): to run a command, to change files, more
 * permissions (network, paths), or the user's input (`request_user_input`, an MCP elicitation).
 */
export interface ApprovalRequest {
  readonly kind: "command" | "file_change" | "permission" | "input"
  readonly command?: string | undefined
  readonly cwd?: string | undefined
  readonly files?: ReadonlyArray<string> | undefined
  readonly reason?: string | undefined
  /** `permission`: what is asked for, e.g. `network`, `write /srv/data`. */
  readonly permissions?: ReadonlyArray<string> | undefined
  /** `input`: the questions (none: an MCP elicitation that only asks to go ahead, e.g. open a URL). */
  readonly questions?: ReadonlyArray<InputQuestion> | undefined
  /** `input` from an MCP server: its name. */
  readonly server?: string | undefined
}

/** The answer to an `ApprovalRequest`: run it, run it and its like for the session, or not. */
export type ApprovalDecision = "accept" | "acceptForSession" | "decline"

/** An answer to an `ApprovalRequest`; `answers`: an `input` request's, one per question, in order. */
export interface ApprovalReply {
  readonly decision: ApprovalDecision
  readonly answers?: ReadonlyArray<string> | undefined
  /** Runs once codex has the answer (e.g. steers a decline's message into the turn). */
  readonly afterAnswer?: Effect.Effect<void> | undefined
}

/** One prompt to run: a new thread, or a resume of `resumeThreadId`. */
export interface ExecRequest {
  readonly prompt: string
  readonly options: ExecOptions
  /** Where codex writes the final message (`--output-last-message`); removed before the run. */
  readonly outputLastMessage: string
  /** Resume this thread instead of starting one; a different `thread.started` id is fatal. */
  readonly resumeThreadId?: string | undefined
  /** Marker for every process of the run (default: a fresh UUID); a worker uses one per task. */
  readonly runId?: string | undefined
  /**
   * Called with every process of the run seen so far (still alive) whenever a snapshot finds a
   * new one, so the caller can persist them (`TaskStore.recordRunProcesses`) for a later clean-up
   * after it was killed itself. Its failures are ignored.
   */
  readonly onProcessesSeen?:
    | ((seen: ReadonlyArray<ProcessIdentity>) => Effect.Effect<void>)
    | undefined
  /**
   * Called when codex reports, during the run, that a usage-limit window is used up, with the
   * time it resets (ms since the epoch; app-server's `account/rateLimits/updated`, exec never).
   * Its failures are ignored.
   */
  readonly onUsageLimitReset?: ((resetAtMs: number) => Effect.Effect<void>) | undefined
  /** Answers codex's approval and input requests (app-server, `--approvals ask`); absent: declined. */
  readonly onApproval?: ((request: ApprovalRequest) => Effect.Effect<ApprovalReply>) | undefined
}

/** What a run prints, in arrival order: each stdout line (decoded, bytes kept) or stderr line. */
export type ExecOutput =
  | { readonly _tag: "Stdout"; readonly line: ExecLine; readonly bytes: Uint8Array }
  | { readonly _tag: "Stderr"; readonly text: string }

/** How a run ended, with the evidence the classification used. */
export interface ExecResult {
  readonly outcome: ExecOutcome
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stderrTail: ReadonlyArray<string>
}

/** A running `codex exec` invocation. Its process lives as long as the enclosing scope. */
export interface ExecRun {
  /** The spawned process id (the npm shim or the native binary). */
  readonly pid: number
  /** Marker every process of this run carries in its environment (used for cleanup). */
  readonly runId: string
  /**
   * Everything the run prints, ending once the process has exited and its pipes closed.
   * Consume it once: either `output` or `events`.
   */
  readonly output: Stream.Stream<ExecOutput>
  /** Decoded events only; fails with the run's error at the end when the outcome is a failure. */
  readonly events: Stream.Stream<ThreadEvent, ExecError>
  /**
   * Stops the run: SIGINT first (codex closes the turn and kills its command), then after the grace
   * period SIGKILL to the process group; then SIGKILL to every process of the run (seen in a
   * snapshot, start time checked, or carrying the marker). Idempotent; returns when they are gone.
   */
  readonly interrupt: Effect.Effect<void>
  /** Waits for the end of the run (the output need not be consumed) and classifies it. */
  readonly result: Effect.Effect<ExecResult>
  /** The processes of the run seen so far that are still alive (codex, its commands). */
  readonly processesSeen: Effect.Effect<ReadonlyArray<ProcessIdentity>>
  /**
   * Adds `prompt` to the turn in flight (app-server `turn/steer`, guarded by the turn id): true
   * once codex accepted it, false when no turn of this run is in flight any more. Absent on
   * backends that cannot steer (exec).
   */
  readonly steer?: ((prompt: string) => Effect.Effect<boolean>) | undefined
}

/** The `codex exec` client. */
export class CodexExec extends Context.Tag("codex-tasks/CodexExec")<
  CodexExec,
  {
    /**
     * Spawns one invocation. Fails only when no process could be started (binary missing, spawn
     * error, missing working directory); every later failure is in `result`. Closing the scope
     * interrupts the run and leaves no process behind.
     */
    readonly run: (request: ExecRequest) => Effect.Effect<ExecRun, ExecError, Scope.Scope>
  }
>() {}

/** The decoded events of `output`, failing with the run's error once it ended in a failure. */
export const eventsOf = (
  output: Stream.Stream<ExecOutput>,
  result: Effect.Effect<ExecResult>,
): Stream.Stream<ThreadEvent, ExecError> =>
  output.pipe(
    Stream.filterMap((o) =>
      o._tag === "Stdout" && o.line._tag === "Event" ? Option.some(o.line.event) : Option.none(),
    ),
    Stream.concat(
      Stream.fromEffect(result).pipe(
        Stream.flatMap((r) =>
          r.outcome._tag === "Failed" ? Stream.fail(r.outcome.error) : Stream.empty,
        ),
      ),
    ),
  )
