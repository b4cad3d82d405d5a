/**
 * The fault-injection seam of the crash-consistency sweep (issue 20 §1, `docs/faults.md`).
 *
 * Every mutating store step calls `faultPoint(name, path)` first. Off (no plan) it costs one
 * branch. A plan comes from the environment variable `CODEX_TASKS_FAULTS` (parsed once, when this
 * module loads) or from `installFaultPlan` (tests): `role=worker;crash-at=7`,
 * `crash-at=name:inbox.take`, `enospc-from=12`, `readonly`, `torn-append=3`, `trace=/path/file`
 * (`;` or `,` between settings; a JSON object with the same keys works too). A plan with a `role`
 * acts only in the process whose entry declared that role (`setFaultRole`: `cli`, `worker`,
 * `mcp`); points are counted per process, from 1.
 *
 * Point names (stable; the path's base name, e.g. `task.json`, is the point's detail):
 * `atomic.temp` (temp file created and written), `atomic.fsync`, `atomic.rename`,
 * `atomic.dirsync` (the steps of `writeFileAtomic`), `dir.fsync` (a directory fsync of its own),
 * `dir.mkdir`, `task.create`, `task.publish` (the task directory), `log.append`, `log.seal`,
 * `inbox.take`, `inbox.drop`, `inbox.remove`, `inbox.finish`, `lock.acquire`, `lock.release`,
 * `lock.break`, `slot.register`, `slot.release`, `slot.reap`, `worker.clear`, `result.move`,
 * `result.promote`, `meta.backup`, `scratch.remove`, `move.rename`, `move.copy`, `move.commit`,
 * `move.trash`, `move.unlink`, `usage-limit.record`, and `git.<subcommand>` before each git step that writes
 * (`git.worktree`, `git.apply`, `git.commit`, … in src/git/run.ts).
 */
import { appendFileSync } from "node:fs"
import { basename } from "node:path"
import { sendSignal } from "../processes/procfs.js"

/** Which program a process runs (a plan's `role` picks one). */
export type FaultRole = "cli" | "worker" | "mcp"

/** What to do, and where. */
export interface FaultPlan {
  /** Act only in processes of this role (any role when absent). */
  readonly role?: FaultRole
  /** Crash at the k-th point (a number, from 1) or at the first point of that name. */
  readonly crashAt?: number | string
  /** Every point from the k-th on fails with ENOSPC. */
  readonly enospcFrom?: number
  /** Every point fails with EROFS (reads never pass a point, so they keep working). */
  readonly readonly?: boolean
  /** The k-th `log.append` writes half of its bytes, then the process crashes. */
  readonly tornAppend?: number
  /** Appends one line per point passed (`<role> <pid> <k> <name> <detail>`) to this file. */
  readonly trace?: string
  /**
   * In-process crash (tests): instead of SIGKILL, the store goes dead (every later point throws
   * `SimulatedCrash`, so no finalizer can write) and `onCrash` runs.
   */
  readonly inProcess?: boolean
  /** Called at the crash point (in-process plans). */
  readonly onCrash?: (point: string) => void
  /** Called at every point passed (in-process tracing). */
  readonly onPoint?: (point: string, k: number, detail: string | undefined) => void
}

/** The error every point throws once an in-process plan crashed (the store is "dead"). */
export class SimulatedCrash extends Error {
  readonly code = "ECRASHED"
  constructor(readonly point: string) {
    super(`the process crashed at ${point} (simulated)`)
  }
}

/** The environment variable naming a plan. */
export const FAULTS_ENV = "CODEX_TASKS_FAULTS"

const ROLES: ReadonlyArray<string> = ["cli", "worker", "mcp"]

const positive = (key: string, value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${key} wants a whole number from 1`)
  return n
}

const fromPairs = (pairs: ReadonlyArray<readonly [string, string | undefined]>): FaultPlan => {
  const plan: {
    -readonly [K in keyof FaultPlan]: FaultPlan[K]
  } = {}
  for (const [key, raw] of pairs) {
    const value = raw ?? ""
    switch (key) {
      case "role":
        if (!ROLES.includes(value)) throw new Error(`role must be one of ${ROLES.join(", ")}`)
        plan.role = value as FaultRole
        break
      case "crash-at":
      case "crashAt":
        plan.crashAt = value.startsWith("name:") ? value.slice(5) : positive(key, value)
        break
      case "enospc-from":
      case "enospcFrom":
        plan.enospcFrom = positive(key, value)
        break
      case "readonly":
        plan.readonly = raw === undefined || value === "true"
        break
      case "torn-append":
      case "tornAppend":
        plan.tornAppend = positive(key, value)
        break
      case "trace":
        if (value === "") throw new Error("trace wants a file path")
        plan.trace = value
        break
      default:
        throw new Error(`unknown setting ${JSON.stringify(key)}`)
    }
  }
  return plan
}

/** Parses a plan (`key=value;…` or a JSON object); throws an Error with the reason. */
export const parseFaultPlan = (text: string): FaultPlan => {
  const trimmed = text.trim()
  if (trimmed.startsWith("{")) {
    const json: unknown = JSON.parse(trimmed)
    if (typeof json !== "object" || json === null) throw new Error("not a JSON object")
    return fromPairs(
      Object.entries(json).map(([k, v]) => [k, v === true ? undefined : String(v)] as const),
    )
  }
  return fromPairs(
    trimmed
      .split(/[;,]/)
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map((s) => {
        const eq = s.indexOf("=")
        return eq < 0 ? ([s, undefined] as const) : ([s.slice(0, eq), s.slice(eq + 1)] as const)
      }),
  )
}

const fromEnv = (): FaultPlan | undefined => {
  const text = process.env[FAULTS_ENV]
  if (text === undefined || text === "") return undefined
  try {
    return parseFaultPlan(text)
  } catch (e) {
    process.stderr.write(
      `codex-tasks: ignoring ${FAULTS_ENV}: ${e instanceof Error ? e.message : String(e)}\n`,
    )
    return undefined
  }
}

let plan: FaultPlan | undefined = fromEnv()
let role: FaultRole | undefined
// The plan in force in this process: `plan` when its role matches (one branch when off).
let active: FaultPlan | undefined
let points = 0
let appends = 0
let dead: SimulatedCrash | undefined

const refresh = () => {
  active = plan !== undefined && (plan.role === undefined || plan.role === role) ? plan : undefined
}
refresh()

/** Declares which program this process runs (its entry calls it first thing). */
export const setFaultRole = (r: FaultRole): void => {
  role = r
  refresh()
}

/** Installs a plan (or none) for this process and resets its counters (tests). */
export const installFaultPlan = (next: FaultPlan | undefined): void => {
  plan = next
  points = 0
  appends = 0
  dead = undefined
  refresh()
}

/** How many points this process passed under its plan, and whether its store is dead. */
export const faultState = (): { readonly points: number; readonly dead: boolean } => ({
  points,
  dead: dead !== undefined,
})

const fsError = (code: "ENOSPC" | "EROFS", name: string, path: string | undefined) =>
  Object.assign(
    new Error(
      `${code}: ${code === "ENOSPC" ? "no space left on device" : "read-only file system"}, ${name} ${path ?? ""} (injected)`,
    ),
    { code, errno: code === "ENOSPC" ? -28 : -30, syscall: name, path },
  )

const crash = (p: FaultPlan, name: string): never => {
  if (p.inProcess === true) {
    dead = new SimulatedCrash(name)
    p.onCrash?.(name)
    throw dead
  }
  sendSignal(process.pid, "SIGKILL")
  // SIGKILL is not delivered synchronously everywhere: nothing more may happen meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000)
}

const hit = (p: FaultPlan, name: string, path?: string, append?: string | Uint8Array): void => {
  if (dead !== undefined) throw dead
  const k = ++points
  const detail = path === undefined ? undefined : basename(path)
  if (p.trace !== undefined) {
    appendFileSync(p.trace, `${role ?? "-"} ${process.pid} ${k} ${name} ${detail ?? "-"}\n`)
  }
  p.onPoint?.(name, k, detail)
  if (p.crashAt === k || p.crashAt === name || p.crashAt === `${name}@${detail}`) crash(p, name)
  if (append !== undefined && path !== undefined && ++appends === p.tornAppend) {
    const bytes = typeof append === "string" ? Buffer.from(append) : append
    appendFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)))
    crash(p, name)
  }
  if (p.readonly === true) throw fsError("EROFS", name, path)
  if (p.enospcFrom !== undefined && k >= p.enospcFrom) throw fsError("ENOSPC", name, path)
}

/**
 * A mutating store step is about to happen (`path` is what it changes; `append` the bytes of a
 * log append, which a torn-append plan cuts in half). Call it inside the step's `try`, so an
 * injected error takes the step's own error path. Off, it returns at once.
 */
export const faultPoint = (name: string, path?: string, append?: string | Uint8Array): void => {
  if (active === undefined) return
  hit(active, name, path, append)
}
