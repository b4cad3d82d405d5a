import { mkdir, mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Options of `makeCodexHome`. */
export interface CodexHomeOptions {
  /** Use this directory as CODEX_HOME (created if missing) instead of a fresh temporary one. */
  readonly dir?: string
  /** TOML placed after the top-level keys, before the provider table (top-level keys or tables). */
  readonly extraConfig?: string
  /** TOML lines added to `[model_providers.mock]`; setting a retry key replaces its default of 0. */
  readonly providerConfig?: string
}

const hasKey = (toml: string, key: string) => new RegExp(`^\\s*${key}\\s*=`, "m").test(toml)

/** The config.toml that points codex at a scripted model server. */
export const codexConfig = (
  server: { readonly url: string },
  options: Omit<CodexHomeOptions, "dir"> = {},
): string => {
  const provider = options.providerConfig ?? ""
  const retries = ["request_max_retries", "stream_max_retries"]
    .filter((key) => !hasKey(provider, key))
    .map((key) => `${key} = 0`)
  return [
    `model = "mock-model"`,
    `model_provider = "mock"`,
    ...(options.extraConfig ? [options.extraConfig.trimEnd()] : []),
    "",
    "[model_providers.mock]",
    `name = "mock"`,
    `base_url = ${JSON.stringify(server.url)}`,
    `wire_api = "responses"`,
    `env_key = "OPENAI_API_KEY"`,
    ...retries,
    ...(provider ? [provider.trimEnd()] : []),
    "",
  ].join("\n")
}

/** Creates a CODEX_HOME with a config.toml for `server`; the caller removes it. */
export const makeCodexHome = async (
  server: { readonly url: string },
  options: CodexHomeOptions = {},
): Promise<string> => {
  const home = options.dir ?? (await mkdtemp(join(tmpdir(), "codex-home-")))
  await mkdir(join(home, "home"), { recursive: true })
  await writeFile(join(home, "config.toml"), codexConfig(server, options), { mode: 0o600 })
  return home
}

/**
 * Environment for spawning codex against `codexHome`: inherits PATH etc., drops OPENAI_/CODEX_
 * settings, and points HOME at an empty directory inside it, so the login shells codex runs
 * commands in (`bash -lc`) do not source the machine's profile (a pyenv `rehash` in ~/.bashrc
 * killed mid-way leaves a lock that stalls every later login shell for a minute).
 */
export const codexEnv = (codexHome: string): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("OPENAI_") || key.startsWith("CODEX_")) continue
    env[key] = value
  }
  env.CODEX_HOME = codexHome
  env.HOME = join(codexHome, "home")
  env.OPENAI_API_KEY = "dummy"
  return env
}
