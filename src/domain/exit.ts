import { Data } from "effect"

/** Exit codes of every command (README "Exit codes"). */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** Operational error: unknown task, invalid state, codex failed before the thread existed. */
  Error: 1,
  /** Usage error: bad flags or arguments. */
  Usage: 2,
  /** A task that was waited for ended DIED or its last invocation failed. */
  TaskFailed: 3,
  /** A `--timeout` expired. */
  Timeout: 124,
  /** Interrupted by SIGINT (Ctrl-C). */
  Interrupted: 130,
  /** Ended by SIGTERM. */
  Terminated: 143,
} as const

/** Bad input the argument parser could not catch (conflicting flags, empty prompt, ...). */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Ends the command with `code`, printing `message` (if any) on stderr. */
export class ExitWith extends Data.TaggedError("ExitWith")<{
  readonly code: number
  readonly message?: string | undefined
}> {}
