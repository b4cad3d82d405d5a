import {
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
} from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { syncDirNow } from "./atomic.js"
import { errnoCode } from "./errors.js"
import { faultPoint } from "./faults.js"

/** The filesystem calls an archive move makes: a parameter, so a test can fail a rename with EXDEV. */
export interface MoveFs {
  readonly rename: (from: string, to: string) => Promise<void>
  readonly copyFile: (from: string, to: string) => Promise<void>
}

/** Node's own calls. */
export const nodeMoveFs: MoveFs = { rename, copyFile }

const fsyncFile = async (path: string) => {
  const handle = await open(path, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const present = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  )

/** Copies a directory tree, every file and directory fsynced (FIFOs and sockets are not data). */
const copyTree = async (from: string, to: string, fs: MoveFs): Promise<void> => {
  await mkdir(to, { mode: (await lstat(from)).mode & 0o777 })
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name)
    const copy = join(to, entry.name)
    if (entry.isDirectory()) await copyTree(source, copy, fs)
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), copy)
    else if (entry.isFile()) {
      await fs.copyFile(source, copy)
      await fsyncFile(copy)
    }
  }
  await syncDirNow(to)
}

/** A temporary name beside `path` (same directory, so the same filesystem). */
const beside = (path: string, suffix: string) => join(dirname(path), `.${basename(path)}.${suffix}`)

/** Tries the plain rename: moved, `from` missing, or across filesystems (a copy is needed). */
const renameOrCrossDevice = async (
  from: string,
  to: string,
  fs: MoveFs,
): Promise<"moved" | "missing" | "cross-device"> => {
  try {
    faultPoint("move.rename", from)
    await fs.rename(from, to)
    return "moved"
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return "missing"
    if (errnoCode(e) !== "EXDEV") throw e
  }
  return (await present(from)) ? "cross-device" : "missing"
}

/**
 * Renames `from` to `to` (false if `from` does not exist). Across filesystems (EXDEV) the
 * directory is copied instead, crash-safe and repeatable: the copy is made under a temporary name,
 * fsynced, and only then renamed to `to`, so an existing `to` is always complete; after that the
 * source leaves its directory with one rename and is deleted. A crash at any point leaves the
 * source whole (or already gone) and at most a temporary copy that the next move replaces.
 */
export const moveDir = async (from: string, to: string, fs: MoveFs): Promise<boolean> => {
  const how = await renameOrCrossDevice(from, to, fs)
  if (how !== "cross-device") return how === "moved"
  if (!(await present(to))) {
    const partial = beside(to, "partial")
    faultPoint("move.copy", from)
    await rm(partial, { recursive: true, force: true })
    await copyTree(from, partial, fs)
    faultPoint("move.commit", to)
    await fs.rename(partial, to)
    await syncDirNow(dirname(to))
  }
  const trash = beside(from, "moved")
  faultPoint("move.trash", from)
  await rm(trash, { recursive: true, force: true })
  await fs.rename(from, trash)
  await syncDirNow(dirname(from))
  await rm(trash, { recursive: true, force: true })
  return true
}

/**
 * Renames the file `from` to `to` (false if `from` does not exist). Across filesystems (EXDEV) it
 * is copied to a temporary name, fsynced, renamed to `to`, and only then is `from` removed;
 * repeating the move after a crash copies it again.
 */
export const moveFile = async (from: string, to: string, fs: MoveFs): Promise<boolean> => {
  const how = await renameOrCrossDevice(from, to, fs)
  if (how !== "cross-device") return how === "moved"
  const partial = beside(to, "partial")
  faultPoint("move.copy", from)
  await fs.copyFile(from, partial)
  await fsyncFile(partial)
  faultPoint("move.commit", to)
  await fs.rename(partial, to)
  await syncDirNow(dirname(to))
  faultPoint("move.unlink", from)
  await unlink(from)
  await syncDirNow(dirname(from))
  return true
}
