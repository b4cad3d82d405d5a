import { Options } from "@effect/cli"
import { Option } from "effect"

/** `--max-running N`: at most N codex invocations of the store at once (env `CODEX_TASKS_MAX_RUNNING`). */
export const maxRunningOption = Options.integer("max-running").pipe(
  Options.withDescription(
    "Run at most N codex invocations of this store at once; the others wait for a slot, first come first served (env CODEX_TASKS_MAX_RUNNING; default unlimited; 0 = unlimited).",
  ),
  Options.optional,
)

/** The run-slot limit: the flag, else the environment; `problem` says why a value is unusable. */
export const resolveMaxRunning = (
  flag: Option.Option<number>,
  env: NodeJS.ProcessEnv,
): { readonly limit: number | undefined; readonly problem: string | undefined } => {
  const given = Option.isSome(flag) ? String(flag.value) : env.CODEX_TASKS_MAX_RUNNING
  if (given === undefined || given.trim() === "") return { limit: undefined, problem: undefined }
  const n = Number(given)
  if (!Number.isInteger(n) || n < 0) {
    const from = Option.isSome(flag) ? "--max-running" : "CODEX_TASKS_MAX_RUNNING"
    return { limit: undefined, problem: `${from} must be a whole number ≥ 0 (got ${given}).` }
  }
  return { limit: n === 0 ? undefined : n, problem: undefined }
}
