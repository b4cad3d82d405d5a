import { randomBytes } from "node:crypto"
import { mkdir, open, rename, unlink } from "node:fs/promises"
import { basename, dirname, join, resolve } from "node:path"
import { Effect } from "effect"
import { errnoCode, StoreError, storeError } from "./errors.js"
import { faultPoint } from "./faults.js"

/**
 * The name of a temporary sibling of `path`: `.<name>.<pid>.<random>.tmp` in the same directory
 * (the writer's pid, so a sweep can tell the temporary files of a process that died mid-write).
 */
export const tempPathFor = (path: string): string =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`)

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/

/** The pid of the process that made a `tempPathFor` name; undefined for any other name. */
export const tempOwnerPid = (name: string): number | undefined => {
  const m = TEMP_NAME.exec(name)
  return m === null ? undefined : Number(m[1])
}

// Directories cannot be fsynced everywhere (Windows refuses to open them, some filesystems
// refuse the fsync): there is nothing more to be done for durability then.
const unsupported = (e: unknown) => errnoCode(e) === "EISDIR" || errnoCode(e) === "EINVAL"

/** fsyncs the directory `path` (a promise; `syncDir` is the effect). */
export const syncDirNow = async (path: string, point = "dir.fsync"): Promise<void> => {
  faultPoint(point, path)
  const handle = await open(path, "r").catch((e) => {
    if (unsupported(e)) return undefined
    throw e
  })
  if (handle === undefined) return
  try {
    await handle.sync()
  } catch (e) {
    if (!unsupported(e)) throw e
  } finally {
    await handle.close()
  }
}

/**
 * fsyncs a directory, so that a rename, create or unlink in it survives a crash: open read-only,
 * fsync, close (nothing is done where the platform refuses to fsync a directory).
 */
export const syncDir = (path: string): Effect.Effect<void, StoreError> =>
  Effect.tryPromise({ try: () => syncDirNow(path), catch: storeError("fsync", path) })

/** Options of `writeFileAtomic`. */
export interface WriteOptions {
  /** File mode of a new file (default 0600). */
  readonly mode?: number
  /**
   * Also fsync the directory after the rename, so the new content survives a crash (use it when
   * the write acknowledges something to the user: an inbox push, a task creation).
   */
  readonly durable?: boolean
}

const writeThenRename = async (path: string, data: string | Uint8Array, options: WriteOptions) => {
  const tmp = tempPathFor(path)
  try {
    faultPoint("atomic.temp", path)
    const handle = await open(tmp, "wx", options.mode ?? 0o600)
    try {
      await handle.writeFile(data)
      faultPoint("atomic.fsync", path)
      await handle.sync()
    } finally {
      await handle.close()
    }
    faultPoint("atomic.rename", path)
    await rename(tmp, path)
  } catch (e) {
    await unlink(tmp).catch(() => undefined)
    throw e
  }
  if (options.durable === true) await syncDirNow(dirname(path), "atomic.dirsync")
}

/**
 * Replaces `path` atomically: writes a temporary file in the same directory, fsyncs it and renames
 * it over the target, so readers see the old or the new content, never a partial file. With
 * `durable` the directory is fsynced too.
 */
export const writeFileAtomic = (
  path: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Effect.Effect<void, StoreError> =>
  Effect.tryPromise({
    try: () => writeThenRename(path, data, options),
    catch: storeError("write", path),
  }).pipe(Effect.uninterruptible)

// Node's recursive mkdir never returns for a path under /proc or /sys (pseudo filesystems).
const pseudoFs = /^\/(proc|sys)(\/|$)/

/** `mkdir -p` with mode 0700 for every directory it creates. */
export const ensurePrivateDir = (path: string): Effect.Effect<void, StoreError> =>
  pseudoFs.test(resolve(path))
    ? Effect.fail(new StoreError({ message: `${path} cannot hold a task store`, path }))
    : Effect.tryPromise({
        try: () => {
          faultPoint("dir.mkdir", path)
          return mkdir(path, { recursive: true, mode: 0o700 })
        },
        catch: storeError("mkdir", path),
      }).pipe(Effect.asVoid)
