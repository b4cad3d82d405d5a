import { open } from "node:fs/promises"
import { errnoCode, tryFs } from "./errors.js"

/**
 * fsyncs a directory, so that a file just created or renamed in it survives a crash (a rename is
 * durable only once its directory is synced). Filesystems that refuse it are skipped.
 */
export const syncDirectory = (dir: string) =>
  tryFs("fsync", dir, async () => {
    const handle = await open(dir, "r")
    try {
      await handle.sync()
    } catch (e) {
      if (errnoCode(e) !== "EINVAL" && errnoCode(e) !== "EISDIR") throw e
    } finally {
      await handle.close()
    }
  })
