/** The variable setting how often `log -f` and the waits re-check a task without a file event. */
export const RECHECK_ENV = "CODEX_TASKS_RECHECK_MS"

/** The default re-check interval: 1 s (a worker killed outright changes no file). */
export const DEFAULT_RECHECK_MS = 1_000

const MIN_MS = 10
const MAX_MS = 86_400_000

/**
 * How long a follow or a wait trusts file watching alone before it looks again (ms):
 * `CODEX_TASKS_RECHECK_MS` when a whole number (clamped to 10 ms … 24 h), else 1000.
 */
export const recheckMs = (env: NodeJS.ProcessEnv = process.env): number => {
  const text = env[RECHECK_ENV]
  const n = Number(text)
  if (text === undefined || text.trim() === "" || !Number.isInteger(n)) return DEFAULT_RECHECK_MS
  return Math.min(Math.max(n, MIN_MS), MAX_MS)
}
