import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { nativeCodex } from "../../src/exec/nativeCodex.js"
import { codexEnv, makeCodexHome } from "../../src/testing/codexHome.js"
import type { ModelServer } from "../../src/testing/modelServer.js"

/** The project's codex npm shim (`node_modules/.bin/codex`). */
export const codexShim = new URL("../../node_modules/.bin/codex", import.meta.url).pathname

/**
 * Which codex the e2e tests run, by `CODEX_TASKS_TEST_CODEX`: `shim` (the npm shim, also for the
 * CLI: it gets `CODEX_TASKS_NATIVE_CODEX=0`) or, by default, the native binary behind it (what
 * the CLI runs anyway).
 */
export const testCodex: "shim" | "native" =
  process.env.CODEX_TASKS_TEST_CODEX === "shim" ? "shim" : "native"

/** The real codex binary the tests run (see `testCodex`). */
export const codexBin = testCodex === "shim" ? codexShim : nativeCodex(codexShim).bin

/** One `--json` event line of codex's stdout. */
export type CodexEvent = { readonly type: string } & Record<string, unknown>

/** The outcome of one codex run. */
export interface CodexRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly events: ReadonlyArray<CodexEvent>
  readonly stderr: string
  readonly threadId: string | undefined
}

/** A scratch CODEX_HOME plus working directory for one test; `dispose` removes both. */
export interface CodexSandbox {
  readonly home: string
  readonly cwd: string
  readonly dispose: () => Promise<void>
}

const live = new Set<ChildProcess>()

/** Creates a CODEX_HOME for `server` and an empty working directory. */
export const makeSandbox = async (
  server: ModelServer,
  options: { readonly providerConfig?: string } = {},
): Promise<CodexSandbox> => {
  const home = await makeCodexHome(server, options)
  const cwd = await mkdtemp(join(tmpdir(), "codex-wd-"))
  return {
    home,
    cwd,
    dispose: async () => {
      await rm(home, { recursive: true, force: true })
      await rm(cwd, { recursive: true, force: true })
    },
  }
}

/** Runs `codex exec --json … -` (or `… resume <id> -`) with `prompt` on stdin, killing it after `timeoutMs`. */
export const runCodex = (
  sandbox: CodexSandbox,
  prompt: string,
  options: {
    readonly args?: ReadonlyArray<string>
    readonly resume?: string
    readonly timeoutMs?: number
  } = {},
): Promise<CodexRun> =>
  new Promise((resolve, reject) => {
    const argv = [
      "exec",
      ...(options.args ?? []),
      "--json",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      ...(options.resume === undefined ? [] : ["resume", options.resume]),
      "-",
    ]
    // Own process group, so a timeout can kill the npm shim and the native binary together.
    const child = spawn(codexBin, argv, {
      cwd: sandbox.cwd,
      env: codexEnv(sandbox.home),
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    })
    live.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => killGroup(child), options.timeoutMs ?? 30_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      live.delete(child)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      const events = stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as CodexEvent)
      const started = events.find((e) => e.type === "thread.started")
      const threadId = typeof started?.thread_id === "string" ? started.thread_id : undefined
      resolve({ code, signal, events, stderr, threadId })
    })
    child.stdin.end(prompt)
  })

const killGroup = (child: ChildProcess) => {
  if (child.pid === undefined || child.exitCode !== null) return
  try {
    process.kill(-child.pid, "SIGKILL")
  } catch {
    // already gone
  }
}

/** Kills every codex process started by `runCodex` that is still running. */
export const killAllCodex = () => {
  for (const child of live) killGroup(child)
}

/** The `item` of every `item.<phase>` event whose item has `type`. */
export const itemsOf = (
  run: CodexRun,
  phase: "started" | "updated" | "completed",
  type: string,
): ReadonlyArray<Record<string, unknown>> =>
  run.events
    .filter((e) => e.type === `item.${phase}`)
    .map((e) => e.item as Record<string, unknown>)
    .filter((item) => item.type === type)
