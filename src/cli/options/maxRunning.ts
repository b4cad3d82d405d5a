import { Option } from "effect"

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
