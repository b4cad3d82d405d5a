// Where the store is, from the flag, the environment and the home directory. No Effect here:
// the CLI launcher (scripts/cli-loader.cjs) uses it before any bundle loads.
import { join, resolve } from "node:path"

/** Inputs of store-root resolution (the `--store-root` flag, the environment, the home dir). */
export interface StoreRootInputs {
  readonly flag?: string | undefined
  readonly env: NodeJS.ProcessEnv
  readonly home: string
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === "" ? undefined : s)

/** `--store-root`, else `$CODEX_TASKS_HOME`, else `$CODEX_HOME/tasks`, else `~/.codex/tasks`. */
export const resolveStoreRoot = ({ flag, env, home }: StoreRootInputs): string => {
  const explicit = nonEmpty(flag) ?? nonEmpty(env.CODEX_TASKS_HOME)
  if (explicit !== undefined) return resolve(explicit)
  const codexHome = nonEmpty(env.CODEX_HOME)
  if (codexHome !== undefined) return resolve(codexHome, "tasks")
  return join(home, ".codex", "tasks")
}
