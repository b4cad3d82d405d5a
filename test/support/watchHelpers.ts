import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js"
import { afterEach, assert } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import type { ModelServer } from "../../src/testing/modelServer.js"
import {
  type CliResult,
  type CliSandbox,
  cliPath,
  makeCliSandbox,
  runCli,
  taskState,
} from "./cli.js"

/** A test's scripted model server and CLI sandbox (own store and CODEX_HOME). */
export interface World {
  readonly server: ModelServer
  readonly sandbox: CliSandbox
}

/**
 * Registers an `afterEach` that disposes every world made by the returned `setup` (processes
 * killed, directories removed, server closed); call it at the top of a test file.
 */
export const useWorlds = (): (() => Promise<World>) => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return async () => {
    const server = await startModelServer()
    cleanups.push(() => server.close())
    const sandbox = await makeCliSandbox(server)
    cleanups.push(sandbox.dispose)
    return { server, sandbox }
  }
}

/** `start --skip-git-repo-check [flags] PROMPT`; asserts exit 0 and returns the printed id. */
export const startTask = async (
  sandbox: CliSandbox,
  prompt: string,
  flags: ReadonlyArray<string> = [],
): Promise<string> => {
  const run = await runCli(sandbox, ["start", "--skip-git-repo-check", ...flags, prompt])
  assert.strictEqual(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  assert.match(id, /^[0-9a-f-]{36}$/, `start printed an id: ${run.stdout}`)
  return id
}

/** A CLI run in progress whose stdout can be watched as it streams. */
export interface LiveCli {
  /** Resolves with stdout so far once it matches `pattern` (rejects after `timeoutMs`). */
  readonly waitForStdout: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  /** How the run ended. */
  readonly result: Promise<CliResult>
  /** The process id of the CLI. */
  readonly pid: number
}

/**
 * Starts `node dist/bin/codex-tasks.js ...args` in the sandbox (or `options.command ...args`,
 * with `options.env` added); SIGKILLed after `timeoutMs`.
 */
export const spawnCli = (
  sandbox: CliSandbox,
  args: ReadonlyArray<string>,
  timeoutMs = 60_000,
  options: {
    readonly command?: ReadonlyArray<string>
    readonly env?: Readonly<Record<string, string>>
  } = {},
): LiveCli => {
  const started = performance.now()
  const [program, ...before] = options.command ?? [process.execPath, cliPath]
  const child = spawn(program ?? process.execPath, [...before, ...args], {
    cwd: sandbox.cwd,
    env: { ...sandbox.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stdout = ""
  let stderr = ""
  const watchers = new Set<() => void>()
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d
    for (const w of watchers) w()
  })
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d
  })
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      for (const w of watchers) w()
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started })
    })
  })
  const waitForStdout = (pattern: RegExp, waitMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout)) {
          cleanup()
          resolve(stdout)
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup()
          reject(new Error(`exited before stdout matched ${pattern}:\n${stdout}\n${stderr}`))
        }
      }
      const deadline = setTimeout(() => {
        cleanup()
        reject(new Error(`stdout did not match ${pattern} within ${waitMs} ms:\n${stdout}`))
      }, waitMs)
      const cleanup = () => {
        clearTimeout(deadline)
        watchers.delete(check)
      }
      watchers.add(check)
      check()
    })
  return { waitForStdout, result, pid: child.pid ?? -1 }
}

/** True when `state` is what every reader currently sees for the task. */
export const isInState = async (sandbox: CliSandbox, id: string, state: string) =>
  (await taskState(sandbox, id)).state === state

/** A made-up task id (UUIDv7-like, distinct per `n`). */
export const fakeId = (n: number): string =>
  `0199${n.toString(16).padStart(4, "0")}-0000-7000-8000-${n.toString(16).padStart(12, "0")}`

/** Writes a task directory by hand (no worker ever ran): `fields` override a STOPPED task. */
export const writeFakeTask = async (
  sandbox: CliSandbox,
  id: string,
  fields: Readonly<Record<string, unknown>> = {},
): Promise<string> => {
  const dir = join(sandbox.storeRoot, id)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const meta = {
    id,
    title: null,
    state: "STOPPED",
    created_at: "2025-01-02T03:04:05.000Z",
    updated_at: "2025-01-02T03:05:06.000Z",
    last_result: null,
    initial_prompt: "hand-made",
    last_prompt: "hand-made",
    working_dir: sandbox.cwd,
    ...fields,
  }
  await writeFile(join(dir, "task.json"), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 })
  return dir
}

/** The rows of an `ls` table (header left out), split on runs of two or more spaces. */
export const tableRows = (stdout: string): ReadonlyArray<ReadonlyArray<string>> =>
  stdout
    .split("\n")
    .filter((l) => l !== "")
    .slice(1)
    .map((l) => l.split(/ {2,}/))

// ---------------------------------------------------------------------------------------------
// JSON Schemas of docs/json-schema/

const schemaDir = fileURLToPath(new URL("../../docs/json-schema/", import.meta.url))

/** The names of the documented schemas (docs/json-schema/<name>.schema.json). */
export type SchemaName = "task" | "task-list" | "start" | "send" | "diff" | "apply" | "log-entry"

const ajv = (() => {
  const instance = new Ajv2020({ allErrors: true, strict: true })
  for (const file of readdirSync(schemaDir).filter((f) => f.endsWith(".schema.json"))) {
    instance.addSchema(JSON.parse(readFileSync(join(schemaDir, file), "utf8")))
  }
  return instance
})()

const idOf = (name: SchemaName) => `https://codex-tasks.invalid/json-schema/${name}.schema.json`

/** The validation errors of `value` against a documented schema (empty when it conforms). */
export const schemaErrors = (name: SchemaName, value: unknown): ReadonlyArray<string> => {
  const validate = ajv.getSchema(idOf(name))
  if (validate === undefined) throw new Error(`no schema ${name} in ${schemaDir}`)
  if (validate(value)) return []
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`,
  )
}

/** Asserts that `value` conforms to a documented schema. */
export const assertSchema = (name: SchemaName, value: unknown, what: string = name): void => {
  assert.deepStrictEqual(schemaErrors(name, value), [], `${what}: ${JSON.stringify(value)}`)
}
