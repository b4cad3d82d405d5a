import type { CliSandbox } from "./cli.js"

/** The codex backends a scenario that exercises the codex run is repeated on. */
export const BACKENDS = ["exec", "app-server"] as const
/** One of `BACKENDS`. */
export type Backend = (typeof BACKENDS)[number]

/** The sandbox whose `start`s run on `backend` (CODEX_TASKS_BACKEND). */
export const onBackend = (sandbox: CliSandbox, backend: Backend): CliSandbox => ({
  ...sandbox,
  env: { ...sandbox.env, CODEX_TASKS_BACKEND: backend },
})
