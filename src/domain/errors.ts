/**
 * Why a `codex exec` invocation failed (SPEC §3, BEHAVIOR.md §6–§7). Every error carries a
 * plain-words `message` (with codex's own text where it printed any) and the `evidence` it was
 * classified from; all are `Schema.TaggedError`s so task metadata and `--json` output can
 * persist and print them. `exec/classify.ts` decides which one a run gets.
 */
import { Schema } from "effect"

/** What was seen of the failed run: exit status, the end of stderr, the last stdout lines. */
export const ExecErrorEvidence = Schema.Struct({
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  stderrTail: Schema.Array(Schema.String),
  lastEvents: Schema.Array(Schema.String),
})
/** What was seen of the failed run. */
export type ExecErrorEvidence = typeof ExecErrorEvidence.Type

const common = { message: Schema.String, evidence: ExecErrorEvidence }

/** The codex executable was not found (spawn ENOENT). Fatal. */
export class CodexNotFound extends Schema.TaggedError<CodexNotFound>()("CodexNotFound", common) {}

/** The process could not be spawned for another reason (EACCES, E2BIG, ...). Fatal. */
export class SpawnFailed extends Schema.TaggedError<SpawnFailed>()("SpawnFailed", {
  ...common,
  code: Schema.String,
}) {}

/** codex refused its configuration or command line (config.toml, -c, --cd, -o, usage, empty prompt). Fatal. */
export class ConfigRejected extends Schema.TaggedError<ConfigRejected>()(
  "ConfigRejected",
  common,
) {}

/** codex refused to run outside a trusted (git) directory without --skip-git-repo-check. Fatal. */
export class UntrustedDirectory extends Schema.TaggedError<UntrustedDirectory>()(
  "UntrustedDirectory",
  common,
) {}

/** The model provider rejected the credentials (HTTP 401). Fatal. */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()(
  "AuthenticationFailed",
  common,
) {}

/** `resume` found no stored thread with that id (other CODEX_HOME, --ephemeral, never created). Fatal. */
export class UnknownThread extends Schema.TaggedError<UnknownThread>()("UnknownThread", {
  ...common,
  threadId: Schema.optional(Schema.String),
}) {}

/** `resume` reported another thread than the one requested (codex started a new one). Fatal. */
export class ThreadMismatch extends Schema.TaggedError<ThreadMismatch>()("ThreadMismatch", {
  ...common,
  requested: Schema.String,
  actual: Schema.String,
}) {}

/** The provider kept answering 429 rate-limit until codex gave up. Retryable (with backoff). */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", common) {}

/**
 * A ChatGPT-plan usage limit (HTTP 429 `usage_limit_reached`, "You’ve hit your usage limit … try
 * again at 10:23 PM."). Neither retryable now nor fatal: the worker waits for the reset
 * (`worker/usageWait.ts`), bounded by `--max-limit-wait`.
 */
export class UsageLimitReached extends Schema.TaggedError<UsageLimitReached>()(
  "UsageLimitReached",
  common,
) {}

/** The turn printed nothing for `--stall-timeout` with no command running; it was interrupted. Retryable. */
export class Stalled extends Schema.TaggedError<Stalled>()("Stalled", common) {}

/** The account is out of quota (429 insufficient_quota). Fatal. */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", common) {}

/** A 5xx / high-demand answer, a failed connection or a stream cut short. Retryable. */
export class TransientFailure extends Schema.TaggedError<TransientFailure>()(
  "TransientFailure",
  common,
) {}

/** codex kept printing `Reconnecting... waiting for network` and was stopped for stalling. Retryable. */
export class ReconnectLoop extends Schema.TaggedError<ReconnectLoop>()("ReconnectLoop", common) {}

/** The conversation no longer fits the model's context window. Fatal for this thread. */
export class ContextWindowExceeded extends Schema.TaggedError<ContextWindowExceeded>()(
  "ContextWindowExceeded",
  common,
) {}

/** The turn failed for a reason not classified otherwise (e.g. HTTP 400). Fatal. */
export class TurnFailed extends Schema.TaggedError<TurnFailed>()("TurnFailed", common) {}

/** codex exited without ever printing `thread.started`, and nothing says why. Fatal. */
export class MissingThreadStarted extends Schema.TaggedError<MissingThreadStarted>()(
  "MissingThreadStarted",
  common,
) {}

/**
 * codex died by a signal nobody in codex-tasks sent. Fatal: a signal from outside (OOM killer,
 * an admin, a shutdown) is not a condition that a retry would fix, and the turn may have been
 * half-done (commands run, files changed), so running the prompt again is not known to be safe.
 */
export class KilledBySignal extends Schema.TaggedError<KilledBySignal>()("KilledBySignal", {
  ...common,
  signal: Schema.String,
}) {}

/** codex panicked because its stdout was closed (exit 101): a bug on the reading side. Fatal. */
export class StdoutClosed extends Schema.TaggedError<StdoutClosed>()("StdoutClosed", common) {}

/** codex ended the run in a way none of the other errors describes. Fatal. */
export class UnknownExecError extends Schema.TaggedError<UnknownExecError>()(
  "UnknownExecError",
  common,
) {}

/** Any failure of one `codex exec` invocation (schema, for persisting and decoding). */
export const ExecError = Schema.Union(
  CodexNotFound,
  SpawnFailed,
  ConfigRejected,
  UntrustedDirectory,
  AuthenticationFailed,
  UnknownThread,
  ThreadMismatch,
  RateLimited,
  QuotaExceeded,
  UsageLimitReached,
  TransientFailure,
  ReconnectLoop,
  Stalled,
  ContextWindowExceeded,
  TurnFailed,
  MissingThreadStarted,
  KilledBySignal,
  StdoutClosed,
  UnknownExecError,
)
/** Any failure of one `codex exec` invocation. */
export type ExecError = typeof ExecError.Type

/** Failures worth running the same prompt again for, after a backoff. */
export type RetryableExecError = RateLimited | TransientFailure | ReconnectLoop | Stalled

/** Failures a retry cannot fix (a usage limit is neither: the worker waits for its reset). */
export type FatalExecError = Exclude<ExecError, RetryableExecError | UsageLimitReached>

/** The tags of the retryable errors. */
export const retryableTags: ReadonlyArray<RetryableExecError["_tag"]> = [
  "RateLimited",
  "TransientFailure",
  "ReconnectLoop",
  "Stalled",
]

const retryable: ReadonlySet<string> = new Set(retryableTags)

/** True when running the prompt again may succeed. */
export const isRetryable = (e: ExecError): e is RetryableExecError => retryable.has(e._tag)

const execErrorTags: ReadonlySet<string> = new Set(ExecError.members.map((m) => m._tag))

/** True for a failure of a `codex exec` invocation (as opposed to any other error). */
export const isExecError = (e: unknown): e is ExecError =>
  typeof e === "object" &&
  e !== null &&
  "_tag" in e &&
  typeof e._tag === "string" &&
  execErrorTags.has(e._tag)
