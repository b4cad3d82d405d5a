/**
 * The text rules of `classify`: which stderr lines are noise, and which `turn.failed` / stderr
 * texts mean which error (BEHAVIOR.md §3, §7). Tables of pattern → error, first match wins;
 * `classify.ts` decides when each table is consulted.
 */
import {
  AuthenticationFailed,
  CodexNotFound,
  ConfigRejected,
  ContextWindowExceeded,
  type ExecError,
  type ExecErrorEvidence,
  QuotaExceeded,
  RateLimited,
  SpawnFailed,
  TransientFailure,
  TurnFailed,
  UnknownThread,
  UntrustedDirectory,
  UsageLimitReached,
} from "../domain/errors.js"

/** Stderr noise that says nothing: blank lines and the empty frames of a Rust backtrace. */
export const isNoise = (line: string): boolean =>
  line.trim() === "" || /^\s*\d+: <unknown>$/.test(line) || line.trim() === "Stack backtrace:"

// Stderr lines codex also prints in runs that succeed (BEHAVIOR.md §3, §7): never the reason.
const informational: ReadonlyArray<RegExp> = [
  /^Reading (?:additional input|prompt) from stdin\.\.\.$/,
  /^WARNING: proceeding, even though we could not create PATH aliases/,
  / ERROR codex_core::session: failed to record rollout items/,
  / ERROR codex_core::tools::router: /,
  /^Warning: no last agent message/,
]

/** A stderr line codex prints also when all goes well. */
export const isInformational = (line: string): boolean => informational.some((p) => p.test(line))

/** The block of stderr starting at the first line matching `start`, up to a blank line. */
export const stderrBlock = (lines: ReadonlyArray<string>, start: RegExp): string | undefined => {
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
    // Before the 429 rule: a usage limit is a 429 too, but waits for its reset instead.
    /hit your usage limit|usage_limit_reached/i,
    (said, evidence) =>
      new UsageLimitReached({
        message: `The account reached its usage limit; the task waits for the reset. ${said}`,
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
export const byTurnMessage = (text: string, evidence: ExecErrorEvidence): ExecError => {
  const said = `codex said: ${text}`
  const rule = turnRules.find(([pattern]) => pattern.test(text))
  return rule !== undefined
    ? rule[1](said, evidence)
    : new TurnFailed({ message: `The turn failed. ${said}`, evidence })
}

type Find = (stderr: ReadonlyArray<string>) => string | undefined
type MakeFrom = (
  found: string,
  evidence: ExecErrorEvidence,
  requestedThreadId: string | undefined,
) => ExecError

const block =
  (start: RegExp): Find =>
  (stderr) =>
    stderrBlock(stderr, start)
const lineWith =
  (test: (line: string) => boolean): Find =>
  (stderr) =>
    stderr.find(test)

const configRejected: MakeFrom = (found, evidence) =>
  new ConfigRejected({ message: `codex rejected its configuration: ${found}`, evidence })

// Failures codex reports only on stderr, usually before `thread.started`; first match wins.
const stderrRules: ReadonlyArray<readonly [Find, MakeFrom]> = [
  [
    block(/no rollout found for thread id/),
    (rollout, evidence, requested) => {
      const threadId = /no rollout found for thread id (\S+)/.exec(rollout)?.[1] ?? requested
      return new UnknownThread({
        message: `codex has no stored thread${threadId === undefined ? "" : ` ${threadId}`} to resume (it may belong to another CODEX_HOME or have been run with --ephemeral). codex said: ${rollout}`,
        evidence,
        ...(threadId === undefined ? {} : { threadId }),
      })
    },
  ],
  [
    lineWith((l) => l.includes("Not inside a trusted directory")),
    (untrusted, evidence) =>
      new UntrustedDirectory({
        message: `codex refused to run here: ${untrusted.trim()}`,
        evidence,
      }),
  ],
  [block(/^Error loading config\.toml/), configRejected],
  [block(/^Error: Model provider .* not found/), configRejected],
  [
    block(/^Error: Failed to open last message file/),
    (output, evidence) =>
      new ConfigRejected({ message: `codex could not start: ${output}`, evidence }),
  ],
  [
    block(/^Error: No such file or directory \(os error 2\)/),
    (cd, evidence) =>
      new ConfigRejected({
        message: `codex could not start: ${cd} (codex names no path; usually the working directory does not exist)`,
        evidence,
      }),
  ],
  [
    lineWith((l) => l.startsWith("No prompt provided")),
    (emptyPrompt, evidence) =>
      new ConfigRejected({ message: `codex got no prompt: ${emptyPrompt}`, evidence }),
  ],
]

/** Failures codex reported only on stderr (or by its usage-error exit code 2), if any. */
export const byStderr = (
  stderr: ReadonlyArray<string>,
  exitCode: number | null,
  evidence: ExecErrorEvidence,
  requestedThreadId: string | undefined,
): ExecError | undefined => {
  for (const [find, make] of stderrRules) {
    const found = find(stderr)
    if (found !== undefined) return make(found, evidence, requestedThreadId)
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

/** A failure to start the codex process at all (`spawn` error code and message). */
export const bySpawnError = (
  spawn: { readonly code: string; readonly message: string },
  evidence: ExecErrorEvidence,
): ExecError =>
  spawn.code === "ENOENT"
    ? new CodexNotFound({
        message: `The codex executable was not found (${spawn.message}); install codex or pass --codex-bin.`,
        evidence,
      })
    : new SpawnFailed({
        message:
          spawn.code === "E2BIG"
            ? `codex could not be started: its command line is too long (${spawn.message}).`
            : `codex could not be started: ${spawn.message}`,
        evidence,
        code: spawn.code,
      })
