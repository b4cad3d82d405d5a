import { randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert } from "@effect/vitest"
import { Chunk, Effect, type Layer, Schedule, type Scope, Stream } from "effect"
import type { ExecError } from "../../src/domain/errors.js"
import type { ThreadEvent } from "../../src/domain/events.js"
import {
  CodexExec,
  type ExecOutput,
  type ExecRequest,
  type ExecResult,
  type ExecRun,
} from "../../src/exec/CodexExec.js"
import * as CodexExecLive from "../../src/exec/CodexExecLive.js"
import { envForCodex } from "../../src/exec/nativeCodex.js"
import { codexEnv, makeCodexHome } from "../../src/testing/codexHome.js"
import { type ModelServer, startModelServer } from "../../src/testing/modelServer.js"
import { codexBin } from "./modelServerCodex.js"
import { markedProcesses } from "./processes.js"

/** One test's world: a model server, its own CODEX_HOME, a working directory, the live layer. */
export interface ExecWorld {
  readonly server: ModelServer
  readonly home: string
  /** An empty directory outside any git repository. */
  readonly cwd: string
  /** Where `--output-last-message` goes. */
  readonly lastMessage: string
  /** `CodexExecLive.layer` for the real codex, pointed at `home`. */
  readonly layer: Layer.Layer<CodexExec>
}

const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

/** A local URL nothing listens on (a port that was free a moment ago). */
export const deadUrl = (): Effect.Effect<string> =>
  Effect.async<string>((resume) => {
    const probe = createServer()
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}/v1`)))
    })
  })

/** Starts a model server and a fresh CODEX_HOME + working directory, all released with the scope. */
export const makeWorld = (
  options: {
    readonly codexBin?: string
    readonly graceMs?: number
    readonly reconnectTimeoutMs?: number
    /** Point codex at this URL instead of the model server (e.g. one nothing listens on). */
    readonly modelUrl?: string
  } = {},
): Effect.Effect<ExecWorld, never, Scope.Scope> =>
  Effect.gen(function* () {
    const server = yield* Effect.acquireRelease(
      Effect.promise(() => startModelServer()),
      (s) => Effect.promise(() => s.close()),
    )
    const home = yield* tempDir("codex-home-")
    yield* Effect.promise(() =>
      makeCodexHome(options.modelUrl === undefined ? server : { url: options.modelUrl }, {
        dir: home,
      }),
    )
    const cwd = yield* tempDir("codex-wd-")
    // codex runs commands in a login shell (`bash -lc`); an empty HOME keeps the machine's
    // ~/.profile out (a pyenv `rehash` there takes a lock file that a killed shell leaves behind,
    // after which every login shell waits 60 s for it).
    const userHome = yield* tempDir("codex-user-home-")
    const bin = options.codexBin ?? codexBin
    const layer = CodexExecLive.layer({
      codexBin: bin,
      // as the worker runs it: a native codex gets its npm launcher's variables
      env: envForCodex(bin, { ...codexEnv(home), HOME: userHome }),
      graceMs: options.graceMs,
      reconnectTimeoutMs: options.reconnectTimeoutMs,
    })
    return { server, home, cwd, lastMessage: join(home, "last-message.txt"), layer }
  })

/** A finished run: everything it printed, its decoded events and its result. */
export interface Finished {
  readonly pid: number
  readonly runId: string
  readonly output: ReadonlyArray<ExecOutput>
  readonly events: ReadonlyArray<ThreadEvent>
  readonly result: ExecResult
}

/** The decoded events among `output`. */
export const eventsIn = (output: ReadonlyArray<ExecOutput>): Array<ThreadEvent> =>
  output.flatMap((o) => (o._tag === "Stdout" && o.line._tag === "Event" ? [o.line.event] : []))

/** Fails the test when a process of `runId` is still alive. */
export const assertNoMarkedProcesses = (runId: string) =>
  Effect.sync(() => assert.deepStrictEqual(markedProcesses(runId), [], `survivors of run ${runId}`))

/**
 * Runs `request` to its end in its own scope (its own `runId`), reading all output, then checks
 * that no process of the run survived.
 */
export const runToEnd = (
  request: Omit<ExecRequest, "runId">,
): Effect.Effect<Finished, ExecError, CodexExec> =>
  Effect.gen(function* () {
    const runId = randomUUID()
    const finished = yield* Effect.scoped(
      Effect.gen(function* () {
        const exec = yield* CodexExec
        const run = yield* exec.run({ ...request, runId })
        const output = Chunk.toArray(yield* Stream.runCollect(run.output))
        const result = yield* run.result
        return { pid: run.pid, runId, output, events: eventsIn(output), result }
      }),
    )
    yield* assertNoMarkedProcesses(runId)
    return finished
  })

/** Starts `request` in the current scope with a fresh `runId`. */
export const start = (
  request: Omit<ExecRequest, "runId">,
): Effect.Effect<ExecRun, ExecError, CodexExec | Scope.Scope> =>
  Effect.flatMap(CodexExec, (exec) => exec.run({ ...request, runId: randomUUID() }))

/** True while `pid` exists and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

/** The argv of a live process (`/proc/<pid>/cmdline`), or undefined when it is gone. */
export const cmdlineOf = (pid: number): Array<string> | undefined => {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8")
    return raw.split("\0").filter((a, i, all) => a !== "" || i < all.length - 1)
  } catch {
    return undefined
  }
}

/** Polls `probe` every 25 ms until it returns a value, dying after `timeoutMs`. */
export const waitFor = <A>(
  what: string,
  probe: () => A | undefined,
  timeoutMs = 10_000,
): Effect.Effect<A> =>
  Effect.suspend(() => {
    const found = probe()
    return found === undefined ? Effect.fail("not yet" as const) : Effect.succeed(found)
  }).pipe(
    Effect.retry({ schedule: Schedule.spaced("25 millis") }),
    Effect.timeoutFail({
      duration: timeoutMs,
      onTimeout: () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
    }),
    Effect.orDie,
  )
