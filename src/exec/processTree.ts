import { readdirSync, readFileSync } from "node:fs"

/**
 * Process bookkeeping for cleaning up after codex. codex runs each shell command in a new session,
 * so a process-group kill misses them, and SIGTERM/SIGKILL of codex leaves grandchildren behind
 * (BEHAVIOR.md §9). Every process of an invocation inherits a marker variable in its environment;
 * a sweep of /proc finds them all, even those already reparented to init.
 */

/** Name of the environment variable that marks every process of one invocation. */
export const RUN_MARKER_VAR = "CODEX_TASKS_RUN_ID"

const isLinux = process.platform === "linux"

/** Pids of the live processes (other than this one) whose environment has `name=value` (Linux only). */
export const processesWithEnv = (name: string, value: string): Array<number> => {
  if (!isLinux) return []
  const needle = Buffer.from(`${name}=${value}\0`)
  const found: Array<number> = []
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return []
  }
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue
    try {
      const environ = readFileSync(`/proc/${pid}/environ`)
      const at = environ.indexOf(needle)
      if (at === 0 || (at > 0 && environ[at - 1] === 0)) found.push(pid)
    } catch {
      // gone, or not ours to read
    }
  }
  return found
}

/** Pids of the live processes whose environment carries `RUN_MARKER_VAR=<runId>` (Linux only). */
export const markedProcesses = (runId: string): Array<number> =>
  processesWithEnv(RUN_MARKER_VAR, runId)

/** Pids of every live descendant of `root` (Linux only; a snapshot). */
export const descendants = (root: number): Array<number> => {
  if (!isLinux) return []
  const children = new Map<number, Array<number>>()
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return []
  }
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 0) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      const list = children.get(ppid)
      if (list === undefined) children.set(ppid, [pid])
      else list.push(pid)
    } catch {
      // raced with exit
    }
  }
  const out: Array<number> = []
  const stack = [root]
  while (stack.length > 0) {
    const next = children.get(stack.pop()!) ?? []
    for (const pid of next) {
      out.push(pid)
      stack.push(pid)
    }
  }
  return out
}

/** Sends `signal` to a pid or process group, ignoring "no such process". */
export const signalQuietly = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

/** SIGKILLs every marked process until none is left (bounded number of sweeps). */
export const killMarked = (runId: string): number => {
  let killed = 0
  for (let round = 0; round < 20; round++) {
    const pids = markedProcesses(runId)
    if (pids.length === 0) break
    for (const pid of pids) if (signalQuietly(pid, "SIGKILL")) killed++
  }
  return killed
}

/** True when the process no longer runs (gone, or a zombie waiting to be reaped). */
export const isGone = (pid: number): boolean => {
  if (!isLinux) {
    try {
      process.kill(pid, 0)
      return false
    } catch {
      return true
    }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z"
  } catch {
    return true
  }
}
