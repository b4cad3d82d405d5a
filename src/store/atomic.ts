import { randomBytes } from "node:crypto"
import { mkdir, open, rename, unlink } from "node:fs/promises"
import { basename, dirname, join, resolve } from "node:path"
import { Effect } from "effect"
import { StoreError, storeError } from "./errors.js"

/** The name of a temporary sibling of `path`: `.<name>.<random>.tmp` in the same directory. */
export const tempPathFor = (path: string): string =>
  join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`)

const writeThenRename = async (path: string, data: string | Uint8Array, mode: number) => {
  const tmp = tempPathFor(path)
  try {
    const handle = await open(tmp, "wx", mode)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (e) {
    await unlink(tmp).catch(() => undefined)
    throw e
  }
}

/**
 * Replaces `path` atomically: writes a temporary file in the same directory, fsyncs it and renames
 * it over the target, so readers see the old or the new content, never a partial file.
 */
export const writeFileAtomic = (
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Effect.Effect<void, StoreError> =>
  Effect.tryPromise({
    try: () => writeThenRename(path, data, mode),
    catch: storeError("write", path),
  }).pipe(Effect.uninterruptible)

// Node's recursive mkdir never returns for a path under /proc or /sys (pseudo filesystems).
const pseudoFs = /^\/(proc|sys)(\/|$)/

/** `mkdir -p` with mode 0700 for every directory it creates. */
export const ensurePrivateDir = (path: string): Effect.Effect<void, StoreError> =>
  pseudoFs.test(resolve(path))
    ? Effect.fail(new StoreError({ message: `${path} cannot hold a task store`, path }))
    : Effect.tryPromise({
        try: () => mkdir(path, { recursive: true, mode: 0o700 }),
        catch: storeError("mkdir", path),
      }).pipe(Effect.asVoid)
