import { lstatSync, realpathSync, statSync } from "node:fs"
import { basename, dirname, join, resolve, sep } from "node:path"
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"

/**
 * The real path of the absolute path `path`; for a path that does not exist yet (a directory a
 * clone will create), the real path of its nearest existing ancestor joined with the rest.
 * Undefined when something on the way exists but cannot be resolved (a dangling or looping link).
 */
export const realPathOf = (path: string): string | undefined => {
  const rest: Array<string> = []
  for (let p = path; ; p = dirname(p)) {
    try {
      return join(realpathSync.native(p), ...rest.reverse())
    } catch {
      try {
        lstatSync(p)
        return undefined
      } catch {
        // p does not exist: judge it by its parent
      }
      if (dirname(p) === p) return undefined
      rest.push(basename(p))
    }
  }
}

/** True when the real path `real` is one of `roots` or lies inside one. */
export const isInside = (real: string, roots: ReadonlyArray<string>): boolean =>
  roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : `${r}${sep}`))

/** Where `git clone` would read a repository URL from, as far as the server can judge. */
export type RepoSource =
  | { readonly kind: "network" }
  | {
      readonly kind: "local"
      readonly path: string
      /** The URL to clone instead, naming the checked real path (no link can be swapped in). */
      readonly withPath: (real: string) => string
    }
  | { readonly kind: "refused"; readonly reason: string }

const NETWORK_SCHEMES = new Set(["http", "https", "ssh", "git", "git+ssh", "ssh+git"])

/**
 * Classifies `url` the way git does: `<helper>::<address>` runs a remote helper (`ext::` runs a
 * command); `scheme://` is a URL; `host:path` without a slash before the colon is ssh; anything
 * else is a local path (relative ones from `cwd`).
 */
export const repoSource = (url: string, cwd: string): RepoSource => {
  const helper = /^([A-Za-z0-9._~-]+)::/.exec(url)
  if (helper !== null) {
    return { kind: "refused", reason: `it uses git's ${helper[1]}:: remote helper` }
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase()
  if (scheme === "file") {
    if (!url.startsWith("file:///") || url.includes("%")) {
      return { kind: "refused", reason: "a file URL must be file:///absolute/path (no host, no %)" }
    }
    return {
      kind: "local",
      path: resolve(url.slice("file://".length)),
      withPath: (real) => `file://${real}`,
    }
  }
  if (scheme !== undefined) {
    return NETWORK_SCHEMES.has(scheme)
      ? { kind: "network" }
      : { kind: "refused", reason: `git would run its ${scheme}:// remote helper` }
  }
  const colon = url.indexOf(":")
  const slash = url.indexOf("/")
  if (colon > 0 && (slash === -1 || colon < slash)) return { kind: "network" }
  return { kind: "local", path: resolve(cwd, url), withPath: (real) => real }
}

/**
 * `--allow-dir` values → real paths (relative ones from `cwd`); each must be an existing
 * directory.
 */
export const resolveAllowDirs = (cwd: string, dirs: ReadonlyArray<string>) =>
  Effect.forEach(dirs, (dir) =>
    Effect.suspend(() => {
      const path = resolve(cwd, dir)
      let real: string | undefined
      try {
        real = statSync(path).isDirectory() ? realpathSync.native(path) : undefined
      } catch {
        real = undefined
      }
      return real === undefined
        ? Effect.fail(new UsageError({ message: `--allow-dir ${path} is not a directory.` }))
        : Effect.succeed(real)
    }),
  )
