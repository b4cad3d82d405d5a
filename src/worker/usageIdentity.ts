/**
 * Whose usage limit a task's turns count against: the `CODEX_HOME` its codex runs with (the
 * directory of `--config-file`, else `$CODEX_HOME`, else `~/.codex`) and the ChatGPT account that
 * home is logged into (`auth.json` `tokens.account_id`, kept only as a hash; nothing else of the
 * file is read or kept).
 */
import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { Effect } from "effect"
import type { ExecOptions } from "../exec/options.js"
import type { UsageIdentity } from "../store/usageLimit.js"

/** The `CODEX_HOME` codex runs with for `options` (as `exec/CodexExecLive.ts` sets it). */
export const codexHomeOf = (options: ExecOptions, env: NodeJS.ProcessEnv): string => {
  if (options.configFile !== undefined) return resolve(dirname(options.configFile))
  const home = env.CODEX_HOME
  return resolve(home !== undefined && home !== "" ? home : join(homedir(), ".codex"))
}

const accountOf = (text: string): string | undefined => {
  try {
    const id = (JSON.parse(text) as { tokens?: { account_id?: unknown } }).tokens?.account_id
    return typeof id === "string" && id !== ""
      ? createHash("sha256").update(id).digest("hex").slice(0, 16)
      : undefined
  } catch {
    return undefined
  }
}

/** The usage identity of a task run with `options` (no account when `auth.json` names none). */
export const usageIdentityOf = (
  options: ExecOptions,
  env: NodeJS.ProcessEnv = process.env,
): Effect.Effect<UsageIdentity> => {
  const codexHome = codexHomeOf(options, env)
  return Effect.promise(() =>
    readFile(join(codexHome, "auth.json"), "utf8").catch(() => undefined),
  ).pipe(
    Effect.map((text) => {
      const account = text === undefined ? undefined : accountOf(text)
      return account === undefined ? { codexHome } : { codexHome, account }
    }),
  )
}
