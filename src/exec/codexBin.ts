import { accessSync, constants, statSync } from "node:fs"
import { delimiter, isAbsolute, join, resolve } from "node:path"

/** Where `resolveCodexBin` looks: the directory the CLI runs in and its environment (`PATH`). */
export interface CodexBinContext {
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
}

/**
 * Which file on disk `bin` names: `found` is the absolute path of an executable file, `path` the
 * absolute path that was meant (undefined for a bare name found nowhere on `PATH`), `detail` why
 * nothing was found.
 */
export type CodexBin =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly path: string | undefined; readonly detail: string }

const isExecutableFile = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const here = (): CodexBinContext => ({ cwd: process.cwd(), env: process.env })

/**
 * Resolves `--codex-bin` as the CLI sees it, so that where codex later runs (the task's working
 * directory, maybe a cloned repository) can never choose the binary: a name with a slash is
 * taken relative to `cwd`; a bare name is looked up in the absolute entries of `PATH` (relative
 * entries such as `.` would be resolved from codex's working directory, so they are skipped).
 */
export const resolveCodexBin = (bin: string, context: CodexBinContext = here()): CodexBin => {
  if (bin.includes("/")) {
    const path = resolve(context.cwd, bin)
    return isExecutableFile(path)
      ? { found: true, path }
      : { found: false, path, detail: `${path} is not an executable file` }
  }
  for (const dir of (context.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue
    const path = join(dir, bin)
    if (isExecutableFile(path)) return { found: true, path }
  }
  return { found: false, path: undefined, detail: `${bin} is not on PATH` }
}
