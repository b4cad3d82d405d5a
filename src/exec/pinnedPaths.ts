import { lstatSync, realpathSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { Schema } from "effect"

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

/**
 * A path an option names with the real path it was checked as (the gate's, `gate/gate.ts`).
 * The worker checks it again right before each codex spawn, after any run-slot wait.
 */
export const PinnedPath = Schema.Struct({ path: Schema.String, real: Schema.String })
/** A pinned path. */
export type PinnedPath = typeof PinnedPath.Type

/** Why codex may not be spawned with these paths (one line per path that moved), or nothing. */
export const movedPaths = (pins: ReadonlyArray<PinnedPath>): Array<string> =>
  pins.flatMap(({ path, real }) => {
    const now = realPathOf(path)
    if (now === real) return []
    const shown = path === real ? path : `${path} (checked as ${real})`
    return [
      `${shown} ${now === undefined ? "no longer resolves" : `now resolves to ${now}`}: a symbolic link on the way changed since the check`,
    ]
  })
