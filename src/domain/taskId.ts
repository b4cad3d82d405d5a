import { Data, Either, Schema } from "effect"

/** The characters a task id (or id prefix) may contain: safe as a single path component. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** A task id: the Codex `thread_id` (or a legacy locally generated UUID). */
export const TaskId = Schema.String.pipe(
  Schema.pattern(TASK_ID_PATTERN, {
    message: () => "a task id is 1-128 letters, digits, '.', '_' or '-' starting alphanumeric",
  }),
  Schema.brand("TaskId"),
).annotations({
  identifier: "taskId",
  description: "The Codex thread id (or a legacy UUID): safe as one path component.",
})
/** A validated task id. */
export type TaskId = typeof TaskId.Type

/** A string that cannot be a task id or id prefix (path separators, `..`, empty, too long). */
export class InvalidTaskId extends Data.TaggedError("InvalidTaskId")<{
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid task id ${JSON.stringify(this.input)}: ${this.reason}`
  }
}

const reasonFor = (input: string): string | undefined => {
  if (input.length === 0) return "it is empty"
  if (input.length > 128) return `it is ${input.length} characters long (at most 128)`
  if (input.includes("/") || input.includes("\\")) return "it contains a path separator"
  if (input === "." || input === "..") return "it is a relative path component"
  if (!TASK_ID_PATTERN.test(input)) {
    return "only letters, digits, '.', '_' and '-' are allowed, starting with a letter or digit"
  }
  return undefined
}

/** Validates a full task id or id prefix; never lets a path component like `..` through. */
export const validateTaskId = (input: string): Either.Either<TaskId, InvalidTaskId> => {
  const reason = reasonFor(input)
  return reason === undefined
    ? Either.right(input as TaskId)
    : Either.left(new InvalidTaskId({ input, reason }))
}
