import { realpathSync, statSync } from "node:fs"
import { resolve, sep } from "node:path"
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"

export { realPathOf } from "../exec/pinnedPaths.js"

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

// Characters and path segments that could make a URL mean another place than its text says
// (percent-escapes, `..` that curl and ssh resolve, whitespace, backslashes).
const AMBIGUOUS = /[%\\\s]|(^|\/)\.\.?(\/|$)/

/**
 * True when the network repository address `url` is one of `allowed` (`--allow-repo`) or lies
 * below one: the prefix ends with `/` or `:`, or is followed by `/` in `url`.
 */
export const repoAllowed = (url: string, allowed: ReadonlyArray<string>): boolean =>
  !AMBIGUOUS.test(url) &&
  allowed.some(
    (p) =>
      url === p ||
      (url.startsWith(p) && (p.endsWith("/") || p.endsWith(":") || url[p.length] === "/")),
  )

/** `--allow-repo` values, each a network repository address or prefix (else a usage error). */
export const checkAllowRepos = (cwd: string, repos: ReadonlyArray<string>) =>
  Effect.forEach(repos, (repo) =>
    repoSource(repo, cwd).kind === "network" && !AMBIGUOUS.test(repo)
      ? Effect.succeed(repo)
      : Effect.fail(
          new UsageError({
            message: `--allow-repo ${repo} is not a network repository address (https://host/path, ssh://…, git@host:path; local repositories are allowed with --allow-dir).`,
          }),
        ),
  )

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
