import { spawn } from "node:child_process"
import { randomInt, randomUUID } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { type EffectiveState, effectiveState, type TaskMeta } from "../../src/domain/task.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { codexEnv, makeCodexHome } from "../../src/testing/codexHome.js"
import { codexBin, testCodex } from "./modelServerCodex.js"
import {
  isSameProcessAlive,
  killUntilNone,
  markedProcesses,
  processesMatching,
  processesWithEnv,
  readRunRecord,
} from "./processes.js"

/** The built CLI (`npm run build`); `CODEX_TASKS_TEST_CLI` points the tests at another build. */
export const cliPath =
  process.env.CODEX_TASKS_TEST_CLI ??
  fileURLToPath(new URL("../../dist/bin/codex-tasks.js", import.meta.url))

/** Variable carried by every process a sandbox's CLI starts (worker, codex, its commands). */
export const SANDBOX_MARK_VAR = "CODEX_TASKS_TEST_SANDBOX"

/** One test's world: CODEX_HOME, task store, working directory and the CLI's environment. */
export interface CliSandbox {
  readonly home: string
  readonly storeRoot: string
  readonly cwd: string
  readonly mark: string
  /**
   * Digits unique to this sandbox, for command lines a test can find its processes by even when
   * they dropped every environment variable (see `tokenSleep`, `tokenProcesses`).
   */
  readonly token: string
  readonly env: Readonly<Record<string, string>>
  /** Kills every process of the sandbox, then removes its directories. */
  readonly dispose: () => Promise<void>
}

/** Creates a sandbox whose codex talks to `server`; `codexBin` overrides the real binary. */
export const makeCliSandbox = async (
  server: { readonly url: string },
  options: { readonly codexBin?: string } = {},
): Promise<CliSandbox> => {
  const base = await mkdtemp(join(tmpdir(), "ct-e2e-"))
  const home = await makeCodexHome(server, { dir: join(base, "home") })
  const storeRoot = join(base, "store")
  const cwd = await mkdtemp(join(tmpdir(), "ct-e2e-wd-"))
  const mark = randomUUID()
  const token = String(randomInt(1, 1_000_000_000)).padStart(9, "0")
  const env = {
    ...codexEnv(home),
    // codex runs commands in a login shell: keep the developer's dotfiles out of the tests.
    HOME: base,
    CODEX_TASKS_HOME: storeRoot,
    CODEX_TASKS_CODEX_BIN: options.codexBin ?? codexBin,
    ...(testCodex === "shim" ? { CODEX_TASKS_NATIVE_CODEX: "0" } : {}),
    [SANDBOX_MARK_VAR]: mark,
  }
  return {
    home,
    storeRoot,
    cwd,
    mark,
    token,
    env,
    dispose: async () => {
      for (const id of storeEntries({ storeRoot })) killTaskProcesses(join(storeRoot, id))
      killSandboxProcesses(mark)
      killUntilNone(() => processesMatching(token))
      await rm(base, { recursive: true, force: true })
      await rm(cwd, { recursive: true, force: true })
    },
  }
}

/** How one CLI run ended. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Wall time of the run. */
  readonly ms: number
}

/** Runs `node dist/bin/codex-tasks.js ...args` in the sandbox; kills it after `timeoutMs`. */
export const runCli = (
  sandbox: CliSandbox,
  args: ReadonlyArray<string>,
  options: {
    readonly cwd?: string
    readonly stdin?: string
    readonly env?: Readonly<Record<string, string>>
    readonly timeoutMs?: number
  } = {},
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? sandbox.cwd,
      env: { ...sandbox.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started })
    })
    child.stdin.on("error", () => {})
    child.stdin.end(options.stdin ?? "")
  })

/** The task directory of `id`. */
export const taskDir = (sandbox: CliSandbox, id: string): string => join(sandbox.storeRoot, id)

/** `task.json` as stored. */
export const readTaskJson = async (sandbox: CliSandbox, id: string): Promise<TaskMeta> =>
  JSON.parse(await readFile(join(taskDir(sandbox, id), "task.json"), "utf8")) as TaskMeta

/** `task.log` as JSON entries (a line that is not JSON becomes `{ raw }`). */
export const readLog = async (
  sandbox: CliSandbox,
  id: string,
): Promise<ReadonlyArray<Record<string, unknown>>> =>
  (await readFile(join(taskDir(sandbox, id), "task.log"), "utf8"))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>
      } catch {
        return { raw: line }
      }
    })

/** Entries of the store root, dotfiles left out (so: task directories and stray files). */
export const storeEntries = (sandbox: Pick<CliSandbox, "storeRoot">): ReadonlyArray<string> => {
  try {
    return readdirSync(sandbox.storeRoot).filter((name) => !name.startsWith("."))
  } catch {
    return []
  }
}

/** The task's state as every reader sees it: the store's `workerAlive` + `effectiveState`. */
export const taskState = (
  sandbox: CliSandbox,
  id: string,
): Promise<EffectiveState & { readonly meta: TaskMeta }> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* TaskStore
      const loc = yield* store.resolve(id)
      const meta = yield* store.read(loc)
      const alive = yield* store.workerAlive(loc)
      return { ...effectiveState(meta, alive), meta }
    }).pipe(Effect.provide(TaskStore.layer(sandbox.storeRoot)), Effect.orDie),
  )

/** Polls `probe` until it returns a value other than undefined; fails with `what` on timeout. */
export const waitFor = async <A>(
  what: string,
  probe: () => A | undefined | Promise<A | undefined>,
  timeoutMs = 30_000,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Waits until the task reads `state` (and `extra` holds), returning what was read. */
export const waitForState = (
  sandbox: CliSandbox,
  id: string,
  state: EffectiveState["state"],
  options: { readonly timeoutMs?: number; readonly extra?: (meta: TaskMeta) => boolean } = {},
) =>
  waitFor(
    `task ${id} to be ${state}`,
    async () => {
      const read = await taskState(sandbox, id).catch(() => undefined)
      return read !== undefined &&
        read.state === state &&
        (options.extra === undefined || options.extra(read.meta))
        ? read
        : undefined
    },
    options.timeoutMs,
  )

/**
 * Live processes of a task: its recorded worker (identity-checked), its run marker's bearers, and
 * every process of the sandbox whose command line carries the sandbox's token (found even when
 * it dropped the marker).
 */
export const taskProcesses = (
  sandbox: CliSandbox,
  id: string,
): {
  readonly worker: number | undefined
  readonly marked: ReadonlyArray<number>
  readonly tokened: ReadonlyArray<number>
} => {
  const dir = taskDir(sandbox, id)
  const identity = readWorkerIdentity(dir)
  const runId = readRunRecord(dir)
  return {
    worker: identity !== undefined && isSameProcessAlive(identity) ? identity.pid : undefined,
    marked: runId === undefined ? [] : markedProcesses(runId),
    tokened: tokenProcesses(sandbox),
  }
}

/** `sleep <seconds>.<token>`: a sleep a test finds by its command line (`tokenProcesses`). */
export const tokenSleep = (sandbox: Pick<CliSandbox, "token">, seconds = 300): string =>
  `sleep ${seconds}.${sandbox.token}`

/** Live processes whose command line carries the sandbox's token, with their command lines. */
export const tokenProcesses = (sandbox: Pick<CliSandbox, "token">): ReadonlyArray<number> =>
  processesMatching(sandbox.token)

/** The command line of a live process, if readable. */
export const commandLine = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()
  } catch {
    return undefined
  }
}

/** SIGKILLs the recorded worker of a task directory and every process of its last run. */
const killTaskProcesses = (dir: string) => {
  const identity = readWorkerIdentity(dir)
  if (identity !== undefined && isSameProcessAlive(identity)) {
    try {
      process.kill(identity.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  const runId = readRunRecord(dir)
  if (runId !== undefined) killUntilNone(() => markedProcesses(runId))
}

/** SIGKILLs every process started under the sandbox's mark (repeatedly, until none is left). */
export const killSandboxProcesses = (mark: string): number =>
  killUntilNone(() => processesWithEnv(SANDBOX_MARK_VAR, mark))

/** Pids of live processes whose environment has `name=value` (Linux /proc); `run.json`'s marker. */
export { processesWithEnv, readRunRecord }
