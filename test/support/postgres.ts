/**
 * A real, throwaway PostgreSQL for tests (one per test file): Debian's server binaries, `initdb`
 * into a temp directory, started on a free loopback port with its socket inside that directory,
 * stopped and removed afterwards. Missing binaries are installed with apt-get when we are root;
 * otherwise the caller skips, except under `CI=true`, where a missing Postgres is a failure.
 *
 * initdb and postgres refuse to run as root: as root they run as the `postgres` user (else
 * `nobody`) through `setpriv`, with the temp directory chowned to that user.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A running test database: its URL (with a password), its port, and how to end it. */
export interface TestPostgres {
  readonly url: string
  readonly port: number
  readonly password: string
  readonly stop: () => Promise<void>
}

const BINARIES = ["initdb", "postgres"] as const

const hasAll = (dir: string) => BINARIES.every((b) => existsSync(join(dir, b)))

/** The directory holding `initdb` and `postgres` (PATH, /usr/local/bin, /usr/lib/postgresql/N/bin), if any. */
export const findPostgresBin = (): string | undefined => {
  const fromPath = (process.env.PATH ?? "").split(":").filter((d) => d !== "")
  const versioned = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql")
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : []
  return [...fromPath, "/usr/local/bin", ...versioned].find(hasAll)
}

const isRoot = () => process.getuid?.() === 0

const aptInstall = () => {
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "-q", "postgresql"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 600_000,
    }).status === 0
  if (install()) return
  spawnSync("apt-get", ["update", "-q"], { stdio: "ignore", timeout: 300_000 })
  install()
}

/** The unprivileged account the server runs as when we are root. */
const serverUser = (): { uid: number; gid: number; name: string } | undefined => {
  if (!isRoot()) return undefined
  for (const name of ["postgres", "nobody"]) {
    const uid = spawnSync("id", ["-u", name], { encoding: "utf8" })
    const gid = spawnSync("id", ["-g", name], { encoding: "utf8" })
    if (uid.status === 0 && gid.status === 0) {
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name }
    }
  }
  throw new Error("running as root and neither the postgres nor the nobody user exists")
}

/** argv for running `bin` as `user` (directly when we are not root). */
const asUser = (
  user: ReturnType<typeof serverUser>,
  bin: string,
  args: ReadonlyArray<string>,
): [string, Array<string>] =>
  user === undefined
    ? [bin, [...args]]
    : [
        "setpriv",
        [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", bin, ...args],
      ]

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })

/** Resolves once a connection with `url` answers a query, or rejects after `timeoutMs`. */
const waitReady = async (
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs: number,
) => {
  const { default: pg } = await import("pg")
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during start-up:\n${log()}`)
    }
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.query("SELECT 1")
      await client.end()
      return
    } catch {
      await client.end().catch(() => {})
      if (Date.now() > deadline) throw new Error(`postgres did not start in time:\n${log()}`)
      await new Promise((r) => setTimeout(r, 150))
    }
  }
}

/**
 * Starts a fresh PostgreSQL, or resolves to undefined when none can be had and we are not under
 * `CI=true` (the caller skips with a message); under CI a missing Postgres throws.
 */
export const startPostgres = async (): Promise<TestPostgres | undefined> => {
  let bin = findPostgresBin()
  if (bin === undefined && isRoot()) {
    aptInstall()
    bin = findPostgresBin()
  }
  if (bin === undefined) {
    if (process.env.CI === "true") {
      throw new Error("PostgreSQL (initdb, postgres) is required under CI=true and is missing")
    }
    return undefined
  }
  const user = serverUser()
  const base = mkdtempSync(join(tmpdir(), "ct-pg-"))
  const data = join(base, "data")
  const password = `pw-${Math.random().toString(36).slice(2)}`
  const pwfile = join(base, "pwfile")
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
  if (user !== undefined) {
    chownSync(base, user.uid, user.gid)
    chownSync(pwfile, user.uid, user.gid)
  }
  const [initCmd, initArgs] = asUser(user, join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "codex",
    `--pwfile=${pwfile}`,
    "--auth-host=scram-sha-256",
    "--auth-local=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ])
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8", timeout: 120_000 })
  if (init.status !== 0) {
    rmSync(base, { recursive: true, force: true })
    throw new Error(`initdb failed (${init.status}): ${init.stderr}`)
  }
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const [cmd, args] = asUser(user, join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-h",
      "127.0.0.1",
      "-k",
      base,
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
      "-c",
      "shared_buffers=32MB",
    ])
    let output = ""
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] })
    child.stdout?.on("data", (c) => (output += c))
    child.stderr?.on("data", (c) => (output += c))
    const url = `postgres://codex:${password}@127.0.0.1:${port}/postgres`
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT") // fast shutdown: ends every backend
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        await exited(child)
        clearTimeout(killer)
      }
    }
    try {
      await waitReady(url, child, () => output, 60_000)
      return {
        url,
        port,
        password,
        stop: async () => {
          await stop()
          rmSync(base, { recursive: true, force: true })
        },
      }
    } catch (e) {
      lastError = e
      await stop()
    }
  }
  rmSync(base, { recursive: true, force: true })
  throw lastError
}
