// A `start` spawns its worker before the CLI has loaded: the launcher (scripts/cli-loader.cjs)
// calls `prewarmWorker` first thing, the worker loads its bundle while the CLI loads and parses,
// and `WorkerLauncher` claims it instead of spawning one. Nothing here may import Effect: it runs
// in the launcher, before any bundle.
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, lstatSync, mkdirSync, openSync, rmSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { RUN_MARKER_VAR } from "../processes/runMarker.js"
import { newStartDir, START_SCRATCH_DIR, WORKER_STDERR } from "../store/scratchNames.js"
import { resolveStoreRoot } from "../store/storeRootPath.js"

/** A worker spawned ahead of its request; it exits quietly if its stdin closes with none. */
export interface PrewarmedWorker {
  readonly child: ChildProcess
  /** The store it was made for (its scratch directory is in it). */
  readonly storeRoot: string
  /** `<store>/.tmp/start-<uuid>`: holds its stderr, as a launched start's would. */
  readonly scratchDir: string
  /** The command line it runs (a launcher with another command does not claim it). */
  readonly command: ReadonlyArray<string>
  /** True once it has exited or failed to spawn (it cannot be claimed then). */
  gone: boolean
  /** True once a launcher took it. */
  claimed: boolean
}

const KEY = Symbol.for("codex-tasks/prewarmed-worker")
const registry = globalThis as { [KEY]?: PrewarmedWorker }

/**
 * The store root a `start` argv most likely uses: its last `--store-root` (global or the
 * command's own), else the environment's. A wrong guess costs only a worker that goes unclaimed
 * (`claimPrewarmed` compares it with the root the CLI settled on).
 */
export const prewarmStoreRoot = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  home: string,
): string => {
  let flag: string | undefined
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    const a = args[i] ?? ""
    if (a === "--store-root") flag = args[++i]
    else if (a.startsWith("--store-root=")) flag = a.slice("--store-root=".length)
  }
  return resolveStoreRoot({ flag, env, home })
}

// Only a directory that is really ours and private: the scratch directory is made without the
// CLI's store checks, so a store that has never been used, or looks wrong, is left to them.
const isPrivateDir = (dir: string): boolean => {
  try {
    const st = lstatSync(dir)
    const uid = process.getuid?.() ?? st.uid
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0
  } catch {
    return false
  }
}

/** How this process starts a worker: this Node, its flags, this program, `__worker`. */
export const workerCommand = (): ReadonlyArray<string> => [
  process.execPath,
  ...process.execArgv,
  process.argv[1] ?? "codex-tasks",
  "__worker",
]

/** A worker's environment: this one without the run marker of a task run it may be inside of. */
export const workerEnv = (): NodeJS.ProcessEnv => {
  const { [RUN_MARKER_VAR]: _, ...env } = process.env
  return env
}

/**
 * Spawns the worker of the `start` in `args` (`process.argv.slice(2)`) now, detached, when the
 * store is known and already in use; else does nothing. An unclaimed worker is released at exit
 * (it then exits too).
 */
export const prewarmWorker = (args: ReadonlyArray<string>) => {
  const command = workerCommand()
  const storeRoot = prewarmStoreRoot(args, process.env, homedir())
  if (!isPrivateDir(storeRoot) || !isPrivateDir(join(storeRoot, START_SCRATCH_DIR))) return
  const scratchDir = newStartDir(storeRoot)
  let errFd: number
  try {
    mkdirSync(scratchDir, { mode: 0o700 })
    errFd = openSync(join(scratchDir, WORKER_STDERR), "a", 0o600)
  } catch {
    return
  }
  const env = workerEnv()
  let child: ChildProcess
  try {
    child = spawn(command[0]!, command.slice(1), {
      env,
      detached: true,
      stdio: ["pipe", "pipe", errFd],
    })
  } catch {
    rmSync(scratchDir, { recursive: true, force: true })
    return
  } finally {
    closeSync(errFd)
  }
  const worker: PrewarmedWorker = {
    child,
    storeRoot,
    scratchDir,
    command,
    gone: false,
    claimed: false,
  }
  child.once("error", () => {
    worker.gone = true
  })
  child.once("exit", () => {
    worker.gone = true
  })
  child.stdin?.on("error", () => {})
  // Not kept alive by it: a CLI that fails parsing exits as it would without one.
  child.unref()
  ;(child.stdin as { unref?: () => void } | null)?.unref?.()
  ;(child.stdout as { unref?: () => void } | null)?.unref?.()
  registry[KEY] = worker
  process.once("exit", () => {
    if (worker.claimed) return
    child.stdin?.destroy()
    rmSync(scratchDir, { recursive: true, force: true })
  })
}

/** Takes the prewarmed worker for a start in `storeRoot` run by `command`, if there is one. */
export const claimPrewarmed = (
  storeRoot: string,
  command: ReadonlyArray<string>,
): PrewarmedWorker | undefined => {
  const worker = registry[KEY]
  if (
    worker === undefined ||
    worker.claimed ||
    worker.gone ||
    worker.child.pid === undefined ||
    worker.storeRoot !== storeRoot ||
    worker.command.join("\0") !== command.join("\0")
  ) {
    return undefined
  }
  worker.claimed = true
  return worker
}
