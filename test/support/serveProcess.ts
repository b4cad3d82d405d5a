import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { type CliSandbox, cliPath } from "./cli.js"

/** A running `codex-tasks serve` of the built CLI. */
export interface ServeProcess {
  /** The first stdout line: `http://127.0.0.1:PORT/#token=…`. */
  readonly url: string
  /** `http://127.0.0.1:PORT` */
  readonly origin: string
  readonly port: number
  readonly token: string
  readonly child: ChildProcessWithoutNullStreams
  /** Everything on stdout and stderr so far. */
  readonly output: () => { readonly stdout: string; readonly stderr: string }
  /** Sends `signal` and resolves once it exited (with its code). */
  readonly stop: (signal?: NodeJS.Signals) => Promise<{
    readonly code: number | null
    readonly signal: NodeJS.Signals | null
  }>
}

/** Starts `serve --port 0 ...args` in the sandbox and waits for its URL line. */
export const startServe = (
  sandbox: CliSandbox,
  args: ReadonlyArray<string> = [],
): Promise<ServeProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, "serve", "--port", "0", ...args], {
      cwd: sandbox.cwd,
      env: sandbox.env,
      stdio: ["pipe", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    let done = false
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on("exit", (code, signal) => r({ code, signal })),
    )
    const timer = setTimeout(() => fail(new Error(`serve printed no URL: ${stderr}`)), 30_000)
    const fail = (e: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      child.kill("SIGKILL")
      reject(e)
    }
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    child.on("exit", (code) => fail(new Error(`serve exited (${code}) before its URL: ${stderr}`)))
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
      const line = stdout.split("\n")
      if (done || line.length < 2) return
      const url = line[0] ?? ""
      const m = /^(http:\/\/127\.0\.0\.1:(\d+))\/#token=([A-Za-z0-9_-]+)$/.exec(url)
      if (m === null) return fail(new Error(`unexpected first line: ${url}`))
      done = true
      clearTimeout(timer)
      resolve({
        url,
        origin: m[1] ?? "",
        port: Number(m[2]),
        token: m[3] ?? "",
        child,
        output: () => ({ stdout, stderr }),
        stop: async (signal = "SIGTERM") => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          return exited
        },
      })
    })
  })
