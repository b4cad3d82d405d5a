import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  AuthenticationFailed,
  CodexNotFound,
  ConfigRejected,
  ContextWindowExceeded,
  ExecError,
  type ExecErrorEvidence,
  isRetryable,
  KilledBySignal,
  MissingThreadStarted,
  QuotaExceeded,
  RateLimited,
  ReconnectLoop,
  retryableTags,
  SpawnFailed,
  Stalled,
  StdoutClosed,
  ThreadMismatch,
  TransientFailure,
  TurnFailed,
  UnknownExecError,
  UnknownThread,
  UntrustedDirectory,
  UsageLimitReached,
} from "../../src/domain/errors.js"
import { classify, type ExecEvidence, type ExecOutcome } from "../../src/exec/classify.js"
import { decodeLine } from "../../src/exec/decode.js"

const fixtures = join(import.meta.dirname, "../../fixtures/codex-exec")

interface Meta {
  readonly argv: ReadonlyArray<string>
  readonly exit: { readonly code: number | null; readonly signal: string | null }
  readonly spawnError: { readonly code: string; readonly message: string } | null
  readonly threadId: string | null
}

const splitLines = (text: string): Array<string> => {
  const lines = text.split("\n")
  if (lines.at(-1) === "") lines.pop()
  return lines
}

/** The evidence a run of `name` left behind, as the exec client would hand it to classify. */
const evidenceOf = (name: string, flags: Partial<ExecEvidence> = {}): ExecEvidence => {
  const meta = JSON.parse(readFileSync(join(fixtures, `${name}.meta.json`), "utf8")) as Meta
  const resumeAt = meta.argv.indexOf("resume")
  const requested = resumeAt >= 0 ? meta.argv[resumeAt + 1] : undefined
  return {
    exitCode: meta.exit.code,
    signal: meta.exit.signal,
    spawnError: meta.spawnError ?? undefined,
    stderrLines: splitLines(readFileSync(join(fixtures, `${name}.stderr.txt`), "utf8")),
    lines: splitLines(readFileSync(join(fixtures, `${name}.jsonl`), "utf8")).map(decodeLine),
    requestedThreadId: requested?.startsWith("-") === false ? requested : undefined,
    interruptedByUs: false,
    ...flags,
  }
}

const metaThreadId = (name: string): string | null =>
  (JSON.parse(readFileSync(join(fixtures, `${name}.meta.json`), "utf8")) as Meta).threadId

type Expected =
  | { readonly outcome: "Completed"; readonly flags?: Partial<ExecEvidence> }
  | { readonly outcome: "Interrupted"; readonly flags?: Partial<ExecEvidence> }
  | {
      readonly outcome: "Failed"
      readonly error: ExecError["_tag"]
      readonly flags?: Partial<ExecEvidence>
    }

const completed: Expected = { outcome: "Completed" }
const failedWith = (error: ExecError["_tag"], flags?: Partial<ExecEvidence>): Expected =>
  flags === undefined ? { outcome: "Failed", error } : { outcome: "Failed", error, flags }
const byUs = { interruptedByUs: true }

// Written by hand from BEHAVIOR.md §6–§7, one row per captured case.
const expected: Record<string, Expected> = {
  "argument-prompt": completed,
  "bad-cd": failedWith("ConfigRejected"),
  "bad-config": failedWith("ConfigRejected"),
  "bad-config-value": failedWith("ConfigRejected"),
  "bad-o-path": failedWith("ConfigRejected"),
  "bad-provider": failedWith("ConfigRejected"),
  command: completed,
  "command-background-yield": completed,
  "command-failing": completed,
  "command-no-bypass": completed,
  "command-preamble": completed,
  "conn-refused": failedWith("ReconnectLoop", { reconnectStall: true, interruptedByUs: true }),
  "conn-refused-bounded": failedWith("TransientFailure"),
  drop: failedWith("TransientFailure"),
  "drop-retried": completed,
  "empty-prompt-arg": completed,
  "empty-prompt-stdin": failedWith("ConfigRejected"),
  ephemeral: completed,
  "fail-context-length": failedWith("ContextWindowExceeded"),
  "fail-server-error": failedWith("TransientFailure"),
  "hang-default-idle": failedWith("TransientFailure"),
  "hang-idle-timeout": failedWith("TransientFailure"),
  "http-400": failedWith("TurnFailed"),
  "http-401": failedWith("AuthenticationFailed"),
  "http-429": failedWith("RateLimited"),
  "http-429-quota": failedWith("QuotaExceeded"),
  "http-500": failedWith("TransientFailure"),
  "http-500-default-retries": failedWith("TransientFailure"),
  "http-500-retried": completed,
  "http-500-stale-o": failedWith("TransientFailure"),
  "long-prompt-arg": failedWith("SpawnFailed"),
  "long-prompt-stdin": completed,
  "missing-binary": failedWith("CodexNotFound"),
  multi: completed,
  "no-final-message": completed,
  "no-skip-git-check": failedWith("UntrustedDirectory"),
  "non-utf8-output": completed,
  patch: completed,
  "patch-apply-tool": completed,
  "patch-no-bypass": completed,
  plan: completed,
  "plan-enabled": completed,
  reasoning: completed,
  "reasoning-stream": completed,
  "resume-after-sigint": completed,
  "resume-after-sigterm": completed,
  "resume-cd-before": completed,
  "resume-ephemeral": failedWith("UnknownThread"),
  "resume-first": completed,
  "resume-flag-after": failedWith("ConfigRejected"),
  "resume-flags-base": completed,
  "resume-followup": completed,
  "resume-last": completed,
  // `resume --last` names no thread, so a new one cannot be told apart here.
  "resume-last-other-cwd": completed,
  "resume-malformed-id": failedWith("ThreadMismatch"),
  "resume-other-cwd": completed,
  "resume-other-home": failedWith("UnknownThread"),
  "resume-unknown-id": failedWith("UnknownThread"),
  sigint: { outcome: "Interrupted", flags: byUs },
  "sigint-grandchildren": { outcome: "Interrupted", flags: byUs },
  "sigint-native": { outcome: "Interrupted", flags: byUs },
  "sigint-waiting-model": { outcome: "Interrupted", flags: byUs },
  // The shim died, but the orphaned native codex finished the turn: the work is done.
  sigkill: { outcome: "Completed", flags: byUs },
  "sigkill-grandchildren": failedWith("KilledBySignal"),
  "sigkill-group": failedWith("KilledBySignal"),
  "sigkill-native": { outcome: "Interrupted", flags: byUs },
  sigterm: { outcome: "Interrupted", flags: byUs },
  "sigterm-grandchildren": failedWith("KilledBySignal"),
  "sigterm-waiting-model": failedWith("KilledBySignal"),
  "simple-default-reply": completed,
  simple: completed,
  "stdin-and-arg": completed,
  "stdin-dash": completed,
  "stdin-implicit": completed,
  "stdin-open-pipe": failedWith("KilledBySignal"),
  "stdout-closed-early": failedWith("StdoutClosed"),
  "stream-slow": completed,
  truncate: failedWith("TransientFailure"),
  "usage-limit-90": failedWith("UsageLimitReached"),
  "usage-limit-7200": failedWith("UsageLimitReached"),
  "usage-limit-172800": failedWith("UsageLimitReached"),
  "web-search": completed,
}

const cases = readdirSync(fixtures)
  .filter((f) => f.endsWith(".meta.json") && !f.includes(".human."))
  .map((f) => f.slice(0, -".meta.json".length))
  .sort()

const tagOf = (outcome: ExecOutcome): string =>
  outcome._tag === "Failed" ? `Failed/${outcome.error._tag}` : outcome._tag

const errorOf = (outcome: ExecOutcome): ExecError => {
  if (outcome._tag !== "Failed") throw new Error(`expected a failure, got ${outcome._tag}`)
  return outcome.error
}

describe("classify, on every captured case", () => {
  it("has an expectation for every fixture case and a fixture for every expectation", () => {
    expect(cases).toStrictEqual(Object.keys(expected).sort())
  })

  it.each(cases)("%s", (name) => {
    const want = expected[name]!
    const outcome = classify(evidenceOf(name, want.flags))
    expect(tagOf(outcome)).toBe(want.outcome === "Failed" ? `Failed/${want.error}` : want.outcome)
    // The thread codex reported, whatever the outcome (a mismatch reports the new thread).
    expect(outcome.threadId ?? null).toBe(metaThreadId(name))
  })
})

describe("classify, the same runs under other circumstances", () => {
  it("a run we did not interrupt that dies by SIGTERM or SIGKILL is KilledBySignal, fatal", () => {
    for (const name of ["sigterm", "sigkill-native", "conn-refused"]) {
      const error = errorOf(classify(evidenceOf(name)))
      expect(error._tag, name).toBe("KilledBySignal")
      expect(isRetryable(error)).toBe(false)
    }
  })

  it("exit 1 without a turn event after a SIGINT we did not send is an unknown failure", () => {
    const outcome = classify(evidenceOf("sigint"))
    expect(tagOf(outcome)).toBe("Failed/UnknownExecError")
    expect(outcome.threadId).toBe("01a21959-0441-7ac3-915f-1783e1b3a1cb")
    // The non-fatal "failed to record rollout items" ERROR line is not offered as the reason.
    expect(errorOf(outcome).message).not.toContain("rollout")
    expect(errorOf(outcome).message).toContain("SIGINT")
  })

  it("a completed turn wins over our interrupt", () => {
    expect(classify(evidenceOf("simple", byUs))._tag).toBe("Completed")
  })

  it("a failed turn is reported as failed even if we interrupted", () => {
    expect(tagOf(classify(evidenceOf("http-500", byUs)))).toBe("Failed/TransientFailure")
  })

  it("a resume that reports the requested thread completes; another thread is a mismatch", () => {
    const ok = classify(evidenceOf("resume-followup"))
    expect(ok).toMatchObject({
      _tag: "Completed",
      threadId: "01a21958-c108-7ce0-b5b8-3487c509479c",
    })
    const other = classify(evidenceOf("simple", { requestedThreadId: "01a21958-c108-7ce0" }))
    expect(errorOf(other)).toMatchObject({
      _tag: "ThreadMismatch",
      requested: "01a21958-c108-7ce0",
      actual: "01a21958-bb12-7f50-a100-4cce5e9c3d14",
    })
  })

  it("exit 0 alone is not a completed turn", () => {
    const started = evidenceOf("stdout-closed-early", { exitCode: 0, stderrLines: [] })
    expect(tagOf(classify(started))).toBe("Failed/UnknownExecError")
    const silent = evidenceOf("simple", { lines: [], stderrLines: [] })
    expect(tagOf(classify(silent))).toBe("Failed/MissingThreadStarted")
  })

  it("non-fatal ERROR lines on stderr do not change a completed outcome", () => {
    for (const name of ["plan", "patch-no-bypass", "command-background-yield"]) {
      expect(evidenceOf(name).stderrLines.some((l) => l.includes(" ERROR "))).toBe(true)
      expect(classify(evidenceOf(name))._tag, name).toBe("Completed")
    }
  })

  it("an unrecognised codex error before thread.started is MissingThreadStarted with its text", () => {
    const outcome = classify({
      exitCode: 1,
      signal: null,
      stderrLines: ["Error: something new went wrong", "", "Stack backtrace:", "   0: <unknown>"],
      lines: [],
      interruptedByUs: false,
    })
    expect(errorOf(outcome)).toMatchObject({
      _tag: "MissingThreadStarted",
      message: expect.stringContaining("something new went wrong"),
    })
  })
})

describe("classify reports what happened in codex's words", () => {
  const message = (name: string, flags?: Partial<ExecEvidence>) =>
    errorOf(classify(evidenceOf(name, flags))).message

  it.each([
    [
      "no-skip-git-check",
      "Not inside a trusted directory and --skip-git-repo-check was not specified.",
    ],
    ["http-401", "Incorrect API key provided: dummy."],
    ["http-400", "Invalid request (mock): 'input' could not be processed."],
    ["http-500", "We’re currently experiencing high demand"],
    ["http-429", "exceeded retry limit, last status: 429 Too Many Requests"],
    ["http-429-quota", "Quota exceeded. Check your plan and billing details."],
    ["fail-context-length", "Codex ran out of room in the model's context window."],
    ["bad-provider", "Model provider `nope` not found"],
    ["bad-config", "key with no value, expected `=`"],
    ["bad-config-value", "invalid type: unit variant, expected string only"],
    [
      "bad-o-path",
      'Failed to open last message file "/tmp/capture/bad-o-path/no/such/dir/last.txt"',
    ],
    ["bad-cd", "No such file or directory (os error 2)"],
    ["empty-prompt-stdin", "No prompt provided via stdin."],
    ["resume-flag-after", "unexpected argument '-s' found"],
    ["resume-unknown-id", "0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000"],
    ["stdout-closed-early", "failed printing to stdout: Broken pipe (os error 32)"],
    ["missing-binary", "spawn /tmp/capture/missing-binary/not-installed/codex ENOENT"],
    ["long-prompt-arg", "E2BIG"],
    ["sigkill-group", "SIGKILL"],
  ])("%s", (name, text) => {
    expect(message(name)).toContain(text)
  })

  it("names both threads of a mismatch and the thread resume could not find", () => {
    expect(errorOf(classify(evidenceOf("resume-malformed-id")))).toMatchObject({
      requested: "not-a-uuid!!",
      actual: "01a21958-d115-7790-a7e4-bcbcad146788",
      message: expect.stringContaining("not-a-uuid!!"),
    })
    expect(errorOf(classify(evidenceOf("resume-other-home")))).toMatchObject({
      threadId: "01a21958-c108-7ce0-b5b8-3487c509479c",
    })
  })

  it("keeps the evidence: exit status, stderr without backtrace frames, last raw lines", () => {
    const error = errorOf(classify(evidenceOf("bad-provider")))
    expect(error.evidence.exitCode).toBe(1)
    expect(error.evidence.signal).toBeNull()
    expect(error.evidence.stderrTail.some((l) => l.includes("<unknown>"))).toBe(false)
    expect(error.evidence.stderrTail.at(-1)).toBe("Error: Model provider `nope` not found")

    const failed = errorOf(classify(evidenceOf("http-500-default-retries")))
    const raws = evidenceOf("http-500-default-retries").lines.map((l) => l.raw)
    expect(failed.evidence.lastEvents).toStrictEqual(raws.slice(-10))
    expect(failed.evidence.lastEvents.at(-1)).toContain('"turn.failed"')

    const killed = errorOf(classify(evidenceOf("sigterm-grandchildren")))
    expect(killed.evidence).toMatchObject({ exitCode: null, signal: "SIGTERM" })
  })

  it("gives the last agent message and usage of a completed run", () => {
    expect(classify(evidenceOf("multi"))).toMatchObject({
      finalMessage: "This is the final message.",
      usage: { input_tokens: expect.any(Number) },
    })
    expect(classify(evidenceOf("no-final-message"))).toMatchObject({
      _tag: "Completed",
      finalMessage: undefined,
    })
    expect(classify(evidenceOf("sigkill", byUs))).toMatchObject({ finalMessage: "probe done" })
  })
})

describe("retryable and fatal errors", () => {
  const evidence: ExecErrorEvidence = { exitCode: 1, signal: null, stderrTail: [], lastEvents: [] }
  const common = { message: "m", evidence }
  const every: ReadonlyArray<readonly [ExecError, boolean]> = [
    [new CodexNotFound(common), false],
    [new SpawnFailed({ ...common, code: "E2BIG" }), false],
    [new ConfigRejected(common), false],
    [new UntrustedDirectory(common), false],
    [new AuthenticationFailed(common), false],
    [new UnknownThread(common), false],
    [new ThreadMismatch({ ...common, requested: "a", actual: "b" }), false],
    [new RateLimited(common), true],
    [new QuotaExceeded(common), false],
    [new TransientFailure(common), true],
    [new ReconnectLoop(common), true],
    [new Stalled(common), true],
    [new UsageLimitReached(common), false],
    [new ContextWindowExceeded(common), false],
    [new TurnFailed(common), false],
    [new MissingThreadStarted(common), false],
    [new KilledBySignal({ ...common, signal: "SIGKILL" }), false],
    [new StdoutClosed(common), false],
    [new UnknownExecError(common), false],
  ]

  it.each(every.map(([e, r]) => [e._tag, r, e] as const))("%s retryable: %s", (_, r, e) => {
    expect(isRetryable(e)).toBe(r)
  })

  it("lists exactly the retryable tags", () => {
    expect([...retryableTags].sort()).toStrictEqual(
      every
        .filter(([, r]) => r)
        .map(([e]) => e._tag)
        .sort(),
    )
  })

  it("survives a JSON round trip through the ExecError schema", () => {
    for (const [error] of every) {
      const json = JSON.parse(JSON.stringify(Schema.encodeSync(ExecError)(error)))
      const back = Schema.decodeUnknownSync(ExecError)(json)
      expect(back).toStrictEqual(error)
      expect(back._tag).toBe(error._tag)
    }
  })
})
