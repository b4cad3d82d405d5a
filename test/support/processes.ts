import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { RUN_MARKER_VAR } from "../../src/processes/Processes.js"
import {
  commandLineOf,
  descendantsOf,
  isSameProcessAlive,
  processesByEnv,
} from "../../src/processes/procfs.js"

// Synchronous views of the real process table for the tests (Linux /proc).

/** Pids of live processes whose environment has `name=value`. */
export const processesWithEnv = (name: string, value: string): Array<number> =>
  (processesByEnv(name).get(value) ?? []).map((p) => p.pid)

/** Pids of live processes carrying the run marker `runId`. */
export const markedProcesses = (runId: string): Array<number> =>
  processesWithEnv(RUN_MARKER_VAR, runId)

/** Pids of every live descendant of `root`. */
export const descendants = (root: number): Array<number> => descendantsOf(root).map((p) => p.pid)

/** Pids of live processes (not zombies) whose command line contains `text`. */
export const processesMatching = (text: string): Array<number> => {
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return []
  }
  return entries
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid)
    .filter((pid) => commandLineOf(pid)?.includes(text) === true && isLive(pid))
}

/** True while `pid` runs (a zombie does not count). */
export const isLive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 1).trim())
  } catch {
    return false
  }
}

/** SIGKILLs `pids`, ignoring those already gone. */
export const killAll = (pids: ReadonlyArray<number>): number => {
  let killed = 0
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL")
      killed++
    } catch {
      // already gone
    }
  }
  return killed
}

/** SIGKILLs whatever `find` returns until it returns nothing (bounded). */
export const killUntilNone = (find: () => ReadonlyArray<number>): number => {
  let killed = 0
  for (let round = 0; round < 20; round++) {
    const pids = find()
    if (pids.length === 0) break
    killed += killAll(pids)
  }
  return killed
}

/** `run.json` of a task directory as stored: the marker and the recorded processes. */
export const readRunFile = (
  dir: string,
): { readonly runId: string; readonly pids: ReadonlyArray<number> } | undefined => {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
      run_id?: unknown
      processes?: ReadonlyArray<{ pid: number }>
    }
    return typeof parsed.run_id === "string"
      ? { runId: parsed.run_id, pids: (parsed.processes ?? []).map((p) => p.pid) }
      : undefined
  } catch {
    return undefined
  }
}

/** The marker of the task's last worker, if recorded. */
export const readRunRecord = (dir: string): string | undefined => readRunFile(dir)?.runId

export { commandLineOf, isSameProcessAlive }
