import { readFileSync } from "node:fs"
import { Schema } from "effect"

/**
 * Who a process is, not just its pid: on Linux `startTime` is the start time in clock ticks since
 * boot (`/proc/<pid>/stat` field 22) and `bootId` the kernel's boot id, so a recycled pid (or a
 * reboot) never passes for the original process. Elsewhere `startTime` is `""` and only the pid's
 * existence can be checked (`process.kill(pid, 0)`), which PID reuse can fool.
 */
export const ProcessIdentity = Schema.Struct({
  pid: Schema.Number.pipe(Schema.int(), Schema.positive()),
  startTime: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("start_time")),
  bootId: Schema.optional(Schema.String).pipe(Schema.fromKey("boot_id")),
})
/** A process identity (pid + start time). */
export type ProcessIdentity = typeof ProcessIdentity.Type

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

/** Field 22 (starttime) of a `/proc/<pid>/stat` line; the comm field may hold spaces and `)`. */
export const parseStatStartTime = (stat: string): string | undefined => {
  const close = stat.lastIndexOf(")")
  if (close < 0) return undefined
  // After "pid (comm)" come fields 3.. ; starttime is field 22, i.e. index 19 of the rest.
  const rest = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  const value = rest[19]
  return value !== undefined && /^\d+$/.test(value) ? value : undefined
}

const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const identityOf = (pid: number): ProcessIdentity | undefined => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  if (!hasProc) return pidExists(pid) ? { pid, startTime: "" } : undefined
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  } catch {
    return undefined
  }
  const startTime = parseStatStartTime(stat)
  if (startTime === undefined) return undefined
  // A zombie has exited: it is not alive for our purposes.
  const state = stat.slice(stat.lastIndexOf(")") + 1).trim()[0]
  if (state === "Z" || state === "X") return undefined
  const boot = bootId()
  return boot === undefined ? { pid, startTime } : { pid, startTime, bootId: boot }
}

/** The identity of a running process, or undefined when no such (live) process exists. */
export const processIdentity = (pid: number): ProcessIdentity | undefined => identityOf(pid)

/** The identity of the current process. */
export const currentProcessIdentity = (): ProcessIdentity =>
  identityOf(process.pid) ?? { pid: process.pid, startTime: "" }

/** True when `identity`'s pid is alive AND is still the same process (same start time / boot). */
export const isSameProcessAlive = (identity: ProcessIdentity): boolean => {
  const now = identityOf(identity.pid)
  if (now === undefined) return false
  if (now.startTime !== identity.startTime) return false
  return now.bootId === undefined || identity.bootId === undefined || now.bootId === identity.bootId
}

/** The pid exists at all (any owner, any start time); says nothing about who it is. */
export const pidIsAlive = (pid: number): boolean => identityOf(pid) !== undefined

/** The command line of a pid (NUL-separated args joined by spaces), if it can be read. */
export const processCommandLine = (pid: number): string | undefined => {
  if (!hasProc) return undefined
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()
  } catch {
    return undefined
  }
}
