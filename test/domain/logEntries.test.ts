import { describe, expect, it } from "vitest"
import {
  decodeLogEntry,
  decodeLogLine,
  encodeLogEntry,
  invocationFailed,
  type LogEntry,
  logEntryTypes,
  notificationEntry,
  promptsDropped,
  retryEntry,
  stderrLine,
  userMessage,
  workerNote,
} from "../../src/domain/logEntries.js"

const at = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
const parse = (line: string) => JSON.parse(line) as { readonly type: string }
type WithoutAt<E> = E extends LogEntry ? Omit<E, "at"> : never

describe("synthetic log entries", () => {
  // What each writer puts in task.log (the store format) and what the reader gets back from it.
  const cases: ReadonlyArray<{
    readonly line: string
    readonly json: object
    readonly entry: WithoutAt<LogEntry>
  }> = [
    {
      line: userMessage("Fix the build"),
      json: { type: "user_message", message: "Fix the build", at },
      entry: { type: "user_message", message: "Fix the build" },
    },
    {
      line: stderrLine("WARN something"),
      json: { type: "stderr", message: "WARN something" },
      entry: { type: "stderr", message: "WARN something" },
    },
    {
      line: retryEntry({
        attempt: 1,
        maxRetries: 2,
        delayMs: 2100,
        errorClass: "TransientFailure",
        message: "HTTP 500",
      }),
      json: {
        type: "retry",
        attempt: 1,
        max_retries: 2,
        delay_ms: 2100,
        error_class: "TransientFailure",
        message: "HTTP 500",
        at,
      },
      entry: {
        type: "retry",
        attempt: 1,
        maxRetries: 2,
        delayMs: 2100,
        errorClass: "TransientFailure",
        message: "HTTP 500",
      },
    },
    {
      line: invocationFailed("QuotaExceeded", "out of quota", false),
      json: {
        type: "invocation_failed",
        error_class: "QuotaExceeded",
        message: "out of quota",
        retryable: false,
        at,
      },
      entry: {
        type: "invocation_failed",
        errorClass: "QuotaExceeded",
        message: "out of quota",
        retryable: false,
      },
    },
    {
      line: promptsDropped(["a", "b"]),
      json: { type: "prompts_dropped", count: 2, prompts: ["a", "b"], at },
      entry: { type: "prompts_dropped", count: 2, prompts: ["a", "b"] },
    },
    {
      line: promptsDropped(["a"], "the worker was lost"),
      json: {
        type: "prompts_dropped",
        count: 1,
        prompts: ["a"],
        reason: "the worker was lost",
        at,
      },
      entry: { type: "prompts_dropped", count: 1, prompts: ["a"], reason: "the worker was lost" },
    },
    {
      line: workerNote("stop requested"),
      json: { type: "worker", message: "stop requested", at },
      entry: { type: "worker", message: "stop requested" },
    },
    {
      line: notificationEntry({
        kind: "on_finish",
        ok: false,
        message: "exit 3",
        exitCode: 3,
        output: "no mail\n",
      }),
      json: {
        type: "notification",
        kind: "on_finish",
        ok: false,
        message: "exit 3",
        exit_code: 3,
        output: "no mail\n",
        at,
      },
      entry: {
        type: "notification",
        kind: "on_finish",
        ok: false,
        message: "exit 3",
        exitCode: 3,
        output: "no mail\n",
      },
    },
  ]

  it.each(cases)("writes $json.type as one snake_case JSON line and reads it back", (c) => {
    expect(c.line.endsWith("}\n")).toBe(true)
    expect(c.line.indexOf("\n")).toBe(c.line.length - 1)
    expect(parse(c.line)).toStrictEqual(c.json)
    const decoded = decodeLogEntry(parse(c.line))
    expect(decoded).toStrictEqual({ ...c.entry, ...("at" in c.json ? { at } : {}) })
    expect(encodeLogEntry(decoded as LogEntry)).toBe(c.line)
  })

  it("covers every entry type", () => {
    expect(new Set(cases.map((c) => parse(c.line).type))).toStrictEqual(logEntryTypes)
  })

  it("reads the Rust tool's entries, which have no `at`", () => {
    expect(decodeLogEntry({ type: "user_message", message: "Fix the flaky test" })).toStrictEqual({
      type: "user_message",
      message: "Fix the flaky test",
    })
  })

  it("reads nothing from a malformed entry or from another event type", () => {
    for (const odd of [
      { type: "user_message" },
      { type: "stderr", message: 7 },
      { type: "retry", attempt: "one", max_retries: 2, delay_ms: 10 },
      { type: "invocation_failed", message: "x", retryable: "yes" },
      { type: "prompts_dropped", prompts: "x" },
      { type: "prompts_dropped", prompts: ["a"], reason: 3 },
      { type: "worker", message: "w", at: 5 },
      { type: "thread.archived", message: "x" },
    ]) {
      expect(decodeLogEntry(odd)).toBeUndefined()
    }
  })
})

describe("decodeLogLine", () => {
  it("reads our entries from a task.log line, and nothing else", () => {
    expect(decodeLogLine(userMessage("hi"))).toMatchObject({ type: "user_message", message: "hi" })
    const retry = { attempt: 1, maxRetries: 3, delayMs: 10, errorClass: "Network", message: "m" }
    expect(decodeLogLine(retryEntry(retry))).toMatchObject({ type: "retry", maxRetries: 3 })
    for (const line of [
      '{"type":"thread.started","thread_id":"t"}',
      '{"type":"user_message","message":7}',
      '{"type":"user_message"',
      "[]",
      "null",
    ]) {
      expect(decodeLogLine(line), line).toBeUndefined()
    }
  })
})
