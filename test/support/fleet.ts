/**
 * A fleet on this machine for e2e tests: a throwaway PostgreSQL database, runner processes
 * (`codex-tasks runner`), each with its own host id, store, CODEX_HOME and port, and a client
 * sandbox whose commands carry `CODEX_TASKS_CLUSTER`. Everything is ended after each test.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { afterAll, afterEach, beforeAll } from "vitest"
import { type ModelServer, startModelServer } from "../../src/testing/index.js"
import { type CliSandbox, cliPath, makeCliSandbox, runCli, waitFor } from "./cli.js"
import { freePort, startPostgres, type TestPostgres } from "./postgres.js"

/** A runner process of a test fleet. */
export interface TestRunner {
  readonly hostId: string
  readonly port: number
  readonly sandbox: CliSandbox
  /** Everything the runner process wrote to stderr, across restarts. */
  readonly stderr: () => string
  /** SIGKILL: the runner dies; its tasks' detached workers do not. */
  readonly kill9: () => Promise<void>
  /** Starts the runner again (same host id, store, CODEX_HOME and port); resolves once it serves. */
  readonly restart: () => Promise<void>
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })

/**
 * The fleet world of an e2e file: one PostgreSQL for the file (a fresh database per test), a
 * scripted model server, runners and a client per test. `setup()` resolves to undefined when no
 * PostgreSQL can be had outside CI (the test skips); under CI=true that is a failure.
 */
export const fleetWorld = (options: { readonly perFile?: boolean } = {}) => {
  let postgres: TestPostgres | undefined
  const cleanups: Array<() => Promise<void>> = []
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  }
  beforeAll(async () => {
    postgres = await startPostgres()
  }, 180_000)
  afterAll(async () => {
    // `perFile`: one fleet (database, runners) shared by the file's tests, ended after the last.
    if (options.perFile === true) await cleanUp()
    await postgres?.stop()
  }, 60_000)
  afterEach(async () => {
    if (options.perFile !== true) await cleanUp()
  })

  const setup = async () => {
    if (postgres === undefined) return undefined
    const name = `fleet_${randomBytes(6).toString("hex")}`
    const admin = new pg.Client({ connectionString: postgres.url })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = postgres.url.replace(/\/postgres$/, `/${name}`)
    const server: ModelServer = await startModelServer()
    cleanups.push(() => server.close())

    /** Starts a runner; `args` go after its own (e.g. `--max-running 1`), `env` into its environment. */
    const startRunner = async (
      hostId: string,
      extra: {
        readonly args?: ReadonlyArray<string>
        readonly env?: Readonly<Record<string, string>>
      } = {},
    ): Promise<TestRunner> => {
      const sandbox = await makeCliSandbox(server)
      cleanups.push(sandbox.dispose)
      const port = await freePort()
      let child: ChildProcess | undefined
      let stderr = ""
      const launch = async () => {
        const before = stderr.length
        const proc = spawn(
          process.execPath,
          [
            cliPath,
            "runner",
            "--host-id",
            hostId,
            "--listen",
            `127.0.0.1:${port}`,
            ...(extra.args ?? []),
          ],
          {
            cwd: sandbox.cwd,
            env: { ...sandbox.env, ...extra.env, CODEX_TASKS_CLUSTER: url },
            stdio: ["ignore", "ignore", "pipe"],
          },
        )
        child = proc
        proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
          stderr += d
        })
        await waitFor(
          `runner ${hostId} to serve`,
          () => {
            if (proc.exitCode !== null) {
              throw new Error(`runner ${hostId} exited ${proc.exitCode}:\n${stderr.slice(before)}`)
            }
            return stderr.slice(before).includes(`runner ${hostId} listening on`) ? true : undefined
          },
          60_000,
        )
      }
      const kill9 = async () => {
        const c = child
        if (c === undefined) return
        c.kill("SIGKILL")
        await exited(c)
      }
      cleanups.push(kill9)
      await launch()
      return { hostId, port, sandbox, stderr: () => stderr, kill9, restart: launch }
    }

    const client = await makeCliSandbox(server)
    cleanups.push(client.dispose)
    /** Runs the CLI as a client of the fleet (its own store and CODEX_HOME, unused). */
    const fleetCli = (
      args: ReadonlyArray<string>,
      options: { readonly timeoutMs?: number; readonly cwd?: string } = {},
    ) =>
      runCli(client, args, {
        env: { CODEX_TASKS_CLUSTER: url },
        timeoutMs: options.timeoutMs ?? 90_000,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      })
    return { url, password: postgres.password, server, client, startRunner, fleetCli }
  }
  return { setup }
}
