import { readFile, unlink } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Option, Schema } from "effect"
import { Timestamp } from "../domain/task.js"
import { writeFileAtomic } from "./atomic.js"
import { errnoCode, type StoreError, tryFs } from "./errors.js"

/**
 * The answer to a task's pending approval request, `<task>/approval.json`: written by `approve`
 * or `decline` (under the task lock, only while the task waits for approval), taken (read and
 * removed) by the worker waiting for it.
 */
export const APPROVAL_FILE = "approval.json"

/** An answer to codex's request (approval, permission, input). */
export const ApprovalAnswer = Schema.Struct({
  decision: Schema.Literal("accept", "acceptForSession", "decline"),
  /** A request for input: one answer per question, in order. */
  answers: Schema.optional(Schema.Array(Schema.String)),
  message: Schema.optional(Schema.String),
  at: Timestamp,
})
/** An answer to codex's approval request. */
export type ApprovalAnswer = typeof ApprovalAnswer.Type

const decode = Schema.decodeUnknownOption(Schema.parseJson(ApprovalAnswer))

/** Writes the answer for the worker (atomically). */
export const writeApprovalAnswer = (
  dir: string,
  answer: ApprovalAnswer,
): Effect.Effect<void, StoreError> =>
  writeFileAtomic(join(dir, APPROVAL_FILE), `${JSON.stringify(answer)}\n`)

/** The answer, if one was written, removed as it is read (an unreadable one is removed too). */
export const takeApprovalAnswer = (
  dir: string,
): Effect.Effect<Option.Option<ApprovalAnswer>, StoreError> => {
  const path = join(dir, APPROVAL_FILE)
  return Effect.gen(function* () {
    const text = yield* tryFs("read", path, () =>
      readFile(path, "utf8").catch((e) => {
        if (errnoCode(e) === "ENOENT") return undefined
        throw e
      }),
    )
    if (text === undefined) return Option.none()
    yield* removeApprovalAnswer(dir)
    return decode(text)
  })
}

/** Removes a stale answer (one written for a request that is over); none is fine. */
export const removeApprovalAnswer = (dir: string): Effect.Effect<void, StoreError> => {
  const path = join(dir, APPROVAL_FILE)
  return tryFs("unlink", path, () =>
    unlink(path).catch((e) => {
      if (errnoCode(e) !== "ENOENT") throw e
    }),
  )
}
