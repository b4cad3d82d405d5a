import { Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { parseDuration } from "../../domain/duration.js"
import { UsageError } from "../../domain/exit.js"
import { Backend } from "../../exec/options.js"

/** The variable `start --backend` falls back to. */
export const BACKEND_ENV = "CODEX_TASKS_BACKEND"

const backendOption = (description: string) => ({
  backend: Options.choice("backend", Backend.literals).pipe(
    Options.withDescription(description),
    Options.optional,
  ),
})

/** `start --backend`. */
export const startBackendOptions = backendOption(
  `The codex program that runs the turns: exec (one process a turn) or app-server (one warm process per task) (env ${BACKEND_ENV}; default exec).`,
)

/** `send --backend`: switches the task's backend for this and every later turn. */
export const sendBackendOptions = backendOption(
  "Run this and every later turn of the task on this backend (exec or app-server).",
)

/** `start --approvals never|ask` and `--approval-timeout D` (app-server tasks). */
export const approvalOptions = {
  approvals: Options.choice("approvals", ["never", "ask"] as const).pipe(
    Options.withDescription(
      "ask: codex asks before any command it does not know to be safe (answer with approve / decline; needs --backend app-server); never (default): it never asks.",
    ),
    Options.optional,
  ),
  approvalTimeout: Options.text("approval-timeout").pipe(
    Options.withDescription(
      "Decline an approval request not answered within this duration (e.g. 10m; default: wait).",
    ),
    Options.optional,
  ),
}

/** The approval settings of a start: `--approval-timeout` read as a duration. */
export const startApprovals = (o: {
  readonly approvals: Option.Option<"never" | "ask">
  readonly approvalTimeout: Option.Option<string>
}): Effect.Effect<
  { readonly approvals?: "never" | "ask"; readonly approvalTimeoutMs?: number },
  UsageError
> => {
  const approvals = Option.getOrUndefined(o.approvals)
  const given = Option.getOrUndefined(o.approvalTimeout)
  if (given === undefined) return Effect.succeed(approvals === undefined ? {} : { approvals })
  const ms = parseDuration(given)
  return ms._tag === "Left"
    ? Effect.fail(new UsageError({ message: `--approval-timeout: ${ms.left}` }))
    : Effect.succeed({
        ...(approvals === undefined ? {} : { approvals }),
        approvalTimeoutMs: ms.right,
      })
}

/** A start's backend: the flag, else `CODEX_TASKS_BACKEND`, else exec (a bad value is refused). */
export const startBackend = (
  flag: Option.Option<Backend>,
  env: NodeJS.ProcessEnv = process.env,
): Effect.Effect<Backend, UsageError> => {
  if (Option.isSome(flag)) return Effect.succeed(flag.value)
  const given = env[BACKEND_ENV]?.trim()
  if (given === undefined || given === "") return Effect.succeed("exec")
  return (Backend.literals as ReadonlyArray<string>).includes(given)
    ? Effect.succeed(given as Backend)
    : Effect.fail(
        new UsageError({ message: `${BACKEND_ENV} must be exec or app-server (got ${given}).` }),
      )
}
