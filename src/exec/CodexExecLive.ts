import { randomUUID } from "node:crypto"
import { rmSync, statSync } from "node:fs"
import { dirname } from "node:path"
import { Deferred, Effect, Exit, Layer, Mailbox } from "effect"
import { ConfigRejected, type ExecError } from "../domain/errors.js"
import { isThreadStarted } from "../domain/events.js"
import { startDetached } from "../processes/child.js"
import { killRun, makeSeen } from "../processes/control.js"
import { liveProcesses } from "../processes/live.js"
import { Processes, RUN_MARKER_VAR } from "../processes/Processes.js"
import { newThreadArgv, resumeArgv } from "./argv.js"
import {
  CodexExec,
  type ExecOutput,
  type ExecRequest,
  type ExecResult,
  type ExecRun,
  eventsOf,
} from "./CodexExec.js"
import { classify, type ExecEvidence } from "./classify.js"
import { decodeLineBytes, type ExecLine } from "./decode.js"
import { DECODE_CAP_BYTES, makeLineSplitter } from "./lines.js"
import { watchReconnectStall } from "./stall.js"

/** Settings of the real `codex exec` client. */
export interface CodexExecConfig {
  /** The codex executable (a path, or a name looked up on PATH). */
  readonly codexBin: string
  /** Time codex gets after SIGINT before everything is killed. */
  readonly graceMs?: number | undefined
  /** A run that only prints `Reconnecting... waiting for network` this long is stopped. */
  readonly reconnectTimeoutMs?: number | undefined
  /** How often the run's process tree is snapshotted (default 500 ms). */
  readonly snapshotIntervalMs?: number | undefined
  /** Base environment of the child (default: this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined
}

/** How many stderr lines a run keeps for classification (both backends). */
export const STDERR_TAIL = 40
/** How many stdout lines a run keeps as evidence (both backends). */
export const LINES_KEPT = 200

const noEvidence = { exitCode: null, signal: null, stderrTail: [], lastEvents: [] }

const checkWorkingDir = (dir: string | undefined): Effect.Effect<void, ExecError> => {
  if (dir === undefined) return Effect.void
  let ok = false
  try {
    ok = statSync(dir).isDirectory()
  } catch {
    ok = false
  }
  return ok
    ? Effect.void
    : Effect.fail(
        new ConfigRejected({
          message: `The working directory ${dir} does not exist or is not a directory.`,
          evidence: noEvidence,
        }),
      )
}

const startRun = (config: CodexExecConfig, request: ExecRequest) =>
  Effect.gen(function* () {
    const { options } = request
    yield* checkWorkingDir(options.workingDir)
    const runId = request.runId ?? randomUUID()
    const argv =
      request.resumeThreadId === undefined
        ? newThreadArgv(options, request.outputLastMessage)
        : resumeArgv(request.resumeThreadId, options, request.outputLastMessage)
    const env: NodeJS.ProcessEnv = { ...(config.env ?? process.env), [RUN_MARKER_VAR]: runId }
    if (options.configFile !== undefined) env.CODEX_HOME = dirname(options.configFile)
    // A stale file from an earlier run must never pass for this run's answer.
    rmSync(request.outputLastMessage, { force: true })

    const mailbox = yield* Mailbox.make<ExecOutput>()
    const closed = yield* Deferred.make<{ code: number | null; signal: string | null }>()
    const lines: Array<ExecLine> = []
    let firstLine: ExecLine | undefined
    const stderrTail: Array<string> = []
    let interruptedByUs = false
    let reconnectStall = false
    let triggerInterrupt: () => void = () => {}
    // What the stall detector reads (the output itself is for the caller, who may not read it).
    const stallInput = yield* Mailbox.make<ExecLine>()

    // `bytes` is the line's own buffer (the splitter's copy); `size` > its length when cut short.
    const onStdoutLine = (bytes: Buffer, size: number) => {
      const line = decodeLineBytes(bytes, size)
      if (firstLine === undefined) firstLine = line
      lines.push(line)
      if (lines.length > LINES_KEPT) lines.shift()
      mailbox.unsafeOffer({ _tag: "Stdout", line, bytes })
      stallInput.unsafeOffer(line)
      if (line._tag !== "Event" || !isThreadStarted(line.event)) return
      if (request.resumeThreadId !== undefined && line.event.thread_id !== request.resumeThreadId) {
        triggerInterrupt() // codex started a new thread instead of resuming: stop it at once
      }
    }
    // stderr is text in the log: a line is decoded only up to the cap.
    const onStderrLine = (bytes: Buffer, size: number) => {
      const cut = size - bytes.length
      const text = bytes.toString("utf8") + (cut > 0 ? ` [${cut} more bytes not kept]` : "")
      stderrTail.push(text)
      if (stderrTail.length > STDERR_TAIL) stderrTail.shift()
      mailbox.unsafeOffer({ _tag: "Stderr", text })
    }

    const out = makeLineSplitter(onStdoutLine)
    const err = makeLineSplitter(onStderrLine, DECODE_CAP_BYTES)
    // Own process group: a terminal's Ctrl-C never reaches codex directly.
    const { pid } = yield* startDetached(config.codexBin, argv, {
      cwd: options.workingDir,
      env,
      stdin: request.prompt,
      onStdout: (chunk) => out.push(chunk),
      onStderr: (chunk) => err.push(chunk),
      onClose: ({ exitCode, signal }) => {
        out.flush()
        err.flush()
        mailbox.unsafeDone(Exit.void)
        stallInput.unsafeDone(Exit.void)
        Deferred.unsafeDone(closed, Effect.succeed({ code: exitCode, signal }))
      },
    }).pipe(
      Effect.catchTag("ChildNotStarted", (error) => {
        const outcome = classify({
          exitCode: null,
          signal: null,
          spawnError: { code: error.code, message: error.message },
          stderrLines: [],
          lines: [],
          interruptedByUs: false,
        })
        return outcome._tag === "Failed" ? Effect.fail(outcome.error) : Effect.die(error)
      }),
    )

    const waitClosed = (ms: number) =>
      Deferred.await(closed).pipe(
        Effect.timeoutOption(ms),
        Effect.map((o) => o._tag === "Some"),
      )

    const processes = yield* Processes
    // Every process of the run, seen before it could leave: commands may scrub the marker from
    // their environment and leave codex's session, and codex dies within milliseconds of SIGINT.
    const seen = yield* makeSeen(pid)
    const snapshot = Effect.gen(function* () {
      if (!(yield* seen.snapshot) || request.onProcessesSeen === undefined) return
      yield* request
        .onProcessesSeen(yield* seen.current)
        .pipe(Effect.catchAllCause(() => Effect.void))
    })
    // Kills every process of the run and returns once they are all gone (SIGKILL is not instant).
    // Seen pids are checked against their start time first: a recycled pid is never hit.
    const sweep = Effect.gen(function* () {
      const identities = yield* seen.current
      yield* killRun({ marker: runId, identities }).pipe(
        Effect.provideService(Processes, processes),
      )
    })

    const stop = Effect.gen(function* () {
      if (yield* Deferred.isDone(closed)) {
        yield* sweep
        return
      }
      interruptedByUs = true
      yield* snapshot
      yield* processes.signal(pid, "SIGINT")
      const exited = yield* waitClosed(config.graceMs ?? 3_000)
      // codex is our child and not reaped yet: its pid (and group id) cannot have been reused.
      if (!exited) yield* processes.signal(-pid, "SIGKILL")
      yield* sweep
      if (!exited) yield* waitClosed(5_000)
    })
    const interrupt = yield* Effect.cached(stop)
    triggerInterrupt = () => {
      Effect.runFork(interrupt)
    }

    yield* Effect.addFinalizer(() => interrupt)
    yield* watchReconnectStall(
      stallInput,
      config.reconnectTimeoutMs,
      Effect.sync(() => {
        reconnectStall = true
        triggerInterrupt()
      }),
    )
    const every = config.snapshotIntervalMs ?? 500
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        while (!(yield* Deferred.isDone(closed))) {
          yield* snapshot
          yield* Effect.sleep(every)
        }
      }),
    )

    const result: Effect.Effect<ExecResult> = yield* Effect.cached(
      Effect.gen(function* () {
        const { code, signal } = yield* Deferred.await(closed)
        yield* sweep // a command that daemonised itself is still part of this run
        const evidence: ExecEvidence = {
          exitCode: code,
          signal,
          stderrLines: stderrTail,
          lines: firstLine !== undefined && lines[0] !== firstLine ? [firstLine, ...lines] : lines,
          requestedThreadId: request.resumeThreadId,
          interruptedByUs,
          reconnectStall,
        }
        return { outcome: classify(evidence), exitCode: code, signal, stderrTail: [...stderrTail] }
      }),
    )

    const output = Mailbox.toStream(mailbox)
    const events = eventsOf(output, result)
    const processesSeen = seen.current
    return { pid, runId, output, events, interrupt, result, processesSeen } satisfies ExecRun
  })

/** The real `codex exec` client, spawning `config.codexBin`. */
export const layer = (config: CodexExecConfig): Layer.Layer<CodexExec> =>
  Layer.succeed(CodexExec, {
    run: (request) =>
      startRun(config, request).pipe(Effect.provideService(Processes, liveProcesses)),
  })
