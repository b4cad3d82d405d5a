import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { type ProcessIdentity, sameProcess } from "./identity.js"

/**
 * The process table as Linux shows it in /proc, read synchronously (small files, read often).
 * Elsewhere only `process.kill(pid, 0)` is available: identities have no start time, and
 * descendants and environments cannot be listed (empty answers).
 */

const hasProc = process.platform === "linux"

let cachedBootId: string | undefined | null = null
const bootId = (): string | undefined => {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined
    } catch {
      cachedBootId = undefined
    }
  }
  return cachedBootId
}

/** The fields of a `/proc/<pid>/stat` line we use; the comm field may hold spaces and `)`. */
export const parseStat = (
  stat: string,
): { state: string; ppid: number; pgid: number; startTime: string } | undefined => {
  const close = stat.lastIndexOf(")")
  if (close < 0) return undefined
  // After "pid (comm)" come fields 3.. : state, ppid, pgrp, …; starttime is field 22.
  const rest = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  const [state, ppid, pgid] = rest
  const startTime = rest[19]
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime)) return undefined
  return { state, ppid: Number(ppid), pgid: Number(pgid), startTime }
}

/** Field 22 (starttime) of a `/proc/<pid>/stat` line. */
export const parseStatStartTime = (stat: string): string | undefined => parseStat(stat)?.startTime

const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readStat = (pid: number) => {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"))
  } catch {
    return undefined
  }
}

const withBoot = (pid: number, startTime: string): ProcessIdentity => {
  const boot = bootId()
  return boot === undefined ? { pid, startTime } : { pid, startTime, bootId: boot }
}

/** The identity of a running process; undefined when there is none (a zombie has exited). */
export const identityOf = (pid: number): ProcessIdentity | undefined => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  if (!hasProc) return pidExists(pid) ? { pid, startTime: "" } : undefined
  const stat = readStat(pid)
  if (stat === undefined || stat.state === "Z" || stat.state === "X") return undefined
  return withBoot(pid, stat.startTime)
}

/** The identity of the current process. */
export const currentIdentity = (): ProcessIdentity =>
  identityOf(process.pid) ?? { pid: process.pid, startTime: "" }

/** True when `identity`'s pid is alive AND is still the same process (same start time / boot). */
export const isSameProcessAlive = (identity: ProcessIdentity): boolean => {
  const now = identityOf(identity.pid)
  return now !== undefined && sameProcess(identity, now)
}

/** The command line of a pid (NUL-separated args joined by spaces), if it can be read. */
export const commandLineOf = (pid: number): string | undefined => {
  if (!hasProc) return undefined
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()
  } catch {
    return undefined
  }
}

const pids = (): Array<number> => {
  if (!hasProc) return []
  try {
    return readdirSync("/proc")
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0)
  } catch {
    return []
  }
}

/** Identities of every live descendant of `root` (a snapshot; parents read from /proc/<pid>/stat). */
export const descendantsOf = (root: number): Array<ProcessIdentity> => {
  const children = new Map<number, Array<{ pid: number; startTime: string }>>()
  for (const pid of pids()) {
    const stat = readStat(pid)
    if (stat === undefined || stat.state === "Z" || stat.state === "X") continue
    const list = children.get(stat.ppid)
    const entry = { pid, startTime: stat.startTime }
    if (list === undefined) children.set(stat.ppid, [entry])
    else list.push(entry)
  }
  const out: Array<ProcessIdentity> = []
  const stack = [root]
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(withBoot(child.pid, child.startTime))
      stack.push(child.pid)
    }
  }
  return out
}

/** Live processes (other than this one) carrying the variable `name`, grouped by its value. */
export const processesByEnv = (name: string): Map<string, Array<ProcessIdentity>> => {
  const found = new Map<string, Array<ProcessIdentity>>()
  const prefix = Buffer.from(`${name}=`)
  for (const pid of pids()) {
    if (pid === process.pid) continue
    let environ: Buffer
    try {
      environ = readFileSync(`/proc/${pid}/environ`)
    } catch {
      continue // gone, or not ours to read
    }
    let at = environ.indexOf(prefix)
    while (at > 0 && environ[at - 1] !== 0) at = environ.indexOf(prefix, at + 1)
    if (at < 0) continue
    const start = at + prefix.length
    const end = environ.indexOf(0, start)
    const value = environ.toString("utf8", start, end < 0 ? environ.length : end)
    const identity = identityOf(pid)
    if (identity === undefined) continue
    const list = found.get(value)
    if (list === undefined) found.set(value, [identity])
    else list.push(identity)
  }
  return found
}

/** Sends `signal` to a pid (or a process group, negative); false when there is no such process. */
export const sendSignal = (target: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(target, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Whether some process we can see works in `dir` or below it (its current directory); true
 * when that cannot be known (no /proc), so callers that remove `dir` stay on the safe side.
 */
export const someProcessIn = (dir: string): boolean => {
  if (!hasProc) return true
  for (const pid of pids()) {
    let cwd: string
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`)
    } catch {
      continue // gone, or not ours to read
    }
    if (cwd === dir || cwd.startsWith(`${dir}/`)) return true
  }
  return false
}
