import { Data } from "effect"

/** `start` failed before the task existed (codex's own reason, e.g. the trusted-directory check). */
export class StartFailed extends Data.TaggedError("StartFailed")<{
  readonly message: string
  readonly errorTag: string
}> {}

/** The operation does not apply to the task in its current state. */
export class InvalidTaskState extends Data.TaggedError("InvalidTaskState")<{
  readonly message: string
}> {}

/** Cloning `--repo` failed. */
export class RepoCloneFailed extends Data.TaggedError("RepoCloneFailed")<{
  readonly message: string
}> {}

/** A path the user gave does not exist or is of the wrong kind. */
export class BadPath extends Data.TaggedError("BadPath")<{ readonly message: string }> {}
