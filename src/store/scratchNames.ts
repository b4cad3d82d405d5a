// Names of a start's scratch space, shared by the store, the launcher and the CLI's launcher
// script (scripts/cli-loader.cjs, via launcher/prewarm.ts): no Effect here.
import { randomUUID } from "node:crypto"
import { join } from "node:path"

/** Directory under the store root holding each start's scratch directory. */
export const START_SCRATCH_DIR = ".tmp"
/** The worker process's own stderr (a crash of the worker leaves its trace here). */
export const WORKER_STDERR = "worker.stderr"

/** A fresh `<root>/.tmp/start-<uuid>` path for one start's scratch directory. */
export const newStartDir = (root: string): string =>
  join(root, START_SCRATCH_DIR, `start-${randomUUID()}`)
