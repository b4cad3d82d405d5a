import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  effectiveState,
  type TaskMeta,
  TaskMeta as TaskMetaSchema,
  timestampMillis,
} from "../../src/domain/task.js"
import { validateTaskId } from "../../src/domain/taskId.js"

const decode = Schema.decodeUnknownSync(TaskMetaSchema)
const encode = Schema.encodeSync(TaskMetaSchema)

describe("validateTaskId", () => {
  it.each([
    ["../x", "path separator"],
    ["a/b", "path separator"],
    ["a\\b", "path separator"],
    [".", "relative path component"],
    ["..", "relative path component"],
    ["", "empty"],
    ["x".repeat(200), "200 characters"],
    ["-rf", "only letters"],
    ["a b", "only letters"],
  ])("rejects %j", (input, reason) => {
    const result = validateTaskId(input)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left._tag).toBe("InvalidTaskId")
      expect(result.left.message).toContain(reason)
    }
  })

  it.each(["0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d", "0199", "a", "task_1.v2", "x".repeat(128)])(
    "accepts %j",
    (input) => {
      expect(Either.getOrThrow(validateTaskId(input))).toBe(input)
    },
  )
})

describe("timestamps", () => {
  it("reads 0 to 9 fractional digits and offsets", () => {
    const base = Date.UTC(2025, 9, 12, 9, 15, 2)
    expect(timestampMillis("2025-10-12T09:15:02+00:00")).toBe(base)
    expect(timestampMillis("2025-10-12T09:15:02.5+00:00")).toBe(base + 500)
    expect(timestampMillis("2025-10-12T09:15:02.25Z")).toBe(base + 250)
    expect(timestampMillis("2025-10-12T09:15:02.412Z")).toBe(base + 412)
    expect(timestampMillis("2025-10-12T09:15:02.412887+00:00")).toBe(base + 412)
    expect(timestampMillis("2025-10-12T09:15:02.412887301+00:00")).toBe(base + 412)
    expect(timestampMillis("2025-10-12T11:15:02+02:00")).toBe(base)
    expect(timestampMillis("2025-10-12T04:45:02-04:30")).toBe(base)
    expect(timestampMillis("2025-10-12T09:15:02.1234567890Z")).toBeNaN()
    expect(timestampMillis("yesterday")).toBeNaN()
  })
})

const minimal = {
  id: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d",
  state: "STOPPED",
  created_at: "2025-10-12T09:15:02.412887301+00:00",
  updated_at: "2025-10-12T09:16:40+00:00",
}

describe("TaskMeta", () => {
  it("reads the proto era's IDLE as STOPPED and writes STOPPED", () => {
    const meta = decode({ ...minimal, state: "IDLE" })
    expect(meta.state).toBe("STOPPED")
    expect(encode(meta).state).toBe("STOPPED")
  })

  it("rejects unknown states and malformed timestamps", () => {
    expect(() => decode({ ...minimal, state: "PAUSED" })).toThrow()
    expect(() => decode({ ...minimal, created_at: "12 Oct 2025" })).toThrow()
  })

  it("reads null optionals (serde style) as absent", () => {
    const meta = decode({ ...minimal, title: null, last_result: null })
    expect("title" in meta).toBe(false)
    expect("last_result" in meta).toBe(false)
  })

  it("keeps unknown fields, top-level and nested, through decode → modify → encode", () => {
    const raw = {
      ...minimal,
      future_field: { nested: [1, 2] },
      exec: { model: "o3", images: [], future_exec_flag: true },
    }
    const meta = decode(raw)
    const out = encode({ ...meta, title: "renamed" })
    expect(out.future_field).toEqual({ nested: [1, 2] })
    expect(out.exec).toEqual({ model: "o3", images: [], future_exec_flag: true })
    expect(out.title).toBe("renamed")
  })
})

describe("effectiveState", () => {
  const outcome = {
    kind: "failed",
    error_class: "RateLimited",
    message: "slow down",
    at: minimal.updated_at,
  } as const
  const meta = (state: TaskMeta["state"], withOutcome = false): TaskMeta =>
    decode({ ...minimal, state, ...(withOutcome ? { last_outcome: outcome } : {}) })

  it.each([
    ["RUNNING", true, "RUNNING", undefined],
    ["RUNNING", "unknown", "RUNNING", undefined],
    ["RUNNING", false, "DIED", "worker_lost"],
    ["STOPPED", false, "STOPPED", undefined],
    ["STOPPED", true, "STOPPED", undefined],
    ["DIED", false, "DIED", undefined],
    ["ARCHIVED", false, "ARCHIVED", undefined],
    ["ARCHIVED", "unknown", "ARCHIVED", undefined],
  ] as const)(
    "stored %s with worker alive=%s reads %s (outcome %s)",
    (stored, alive, state, kind) => {
      const result = effectiveState(meta(stored), alive)
      expect(result.state).toBe(state)
      expect(result.outcome?.kind).toBe(kind)
    },
  )

  it("keeps the recorded outcome unless the worker was lost", () => {
    expect(effectiveState(meta("DIED", true), false).outcome).toEqual(outcome)
    expect(effectiveState(meta("RUNNING", true), true).outcome).toEqual(outcome)
    const lost = effectiveState(meta("RUNNING", true), false)
    expect(lost.outcome?.kind).toBe("worker_lost")
    expect(lost.outcome?.at).toBe(minimal.updated_at)
  })
})
