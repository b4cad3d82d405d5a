/**
 * The `CodexExec` port on `codex app-server`: one app-server process, kept warm across runs for
 * as long as the layer's scope lives (a worker: one task), runs each prompt as a turn of the
 * task's thread. Its notifications are translated into the events `codex exec --json` prints
 * (`translate.ts`), so a run looks to the worker exactly like an exec run; its outcome is
 * classified by the same `classify`. The process is restarted when it died or when a run needs
 * other process-level settings (`params.ts` `processArgs`, cwd, CODEX_HOME).
 */
import { randomUUID } from "node:crypto"
import { existsSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import {
  Deferred,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  FiberSet,
  Layer,
  Mailbox,
  Option,
  Scope,
} from "effect"
import {
  ConfigRejected,
  type ExecError,
  type ExecErrorEvidence,
  TransientFailure,
  UnknownThread,
  UntrustedDirectory,
} from "../../domain/errors.js"
import type { ChildNotStarted } from "../../processes/child.js"
import { killRun, makeSeen } from "../../processes/control.js"
import type { ProcessIdentity } from "../../processes/identity.js"
import { liveProcesses } from "../../processes/live.js"
import { Processes, RUN_MARKER_VAR } from "../../processes/Processes.js"
import {
  type ApprovalReply,
  CodexExec,
  type ExecOutput,
  type ExecRequest,
  type ExecResult,
  type ExecRun,
  eventsOf,
} from "../CodexExec.js"
import { type CodexExecConfig, LINES_KEPT, STDERR_TAIL } from "../CodexExecLive.js"
import { classify, type ExecOutcome } from "../classify.js"
import { bySpawnError, byTurnMessage } from "../classifyRules.js"
import { decodeLine, type ExecLine } from "../decode.js"
import type { ExecOptions } from "../options.js"
import { watchReconnectStall } from "../stall.js"
import { processArgs, threadParams, trustArgs, turnInput } from "./params.js"
import { approvalOf, responseOf } from "./requests.js"
import {
  type AppServerConnection,
  type AppServerSpawn,
  connectAppServer,
  METHOD_NOT_FOUND,
  OVERLOADED,
  RpcFailed,
} from "./rpc.js"
import { makeTurnTranslator, UNREAD_STREAMING } from "./translate.js"

/** Settings of the app-server client: those of the exec client (`graceMs` also bounds the wait for the process to exit once its stdin is closed). */
export type AppServerConfig = CodexExecConfig

const CLIENT = { name: "codex-tasks", title: "codex-tasks", version: "1" }

/** The warm process and what it already knows. */
interface Warm {
  readonly key: string
  readonly conn: AppServerConnection
  readonly scope: Scope.CloseableScope
  readonly runId: string
  /** Threads started or resumed in this process (a later turn needs no `thread/resume`). */
  readonly loaded: Set<string>
  readonly seen: {
    readonly snapshot: Effect.Effect<boolean>
    readonly current: Effect.Effect<ReadonlyArray<ProcessIdentity>>
  }
  /** Where the process's stderr goes now (the current run). */
  stderr: (line: string) => void
  onSeen: ExecRequest["onProcessesSeen"]
}

const evidenceOf = (stderrTail: ReadonlyArray<string>): ExecErrorEvidence => ({
  exitCode: null,
  signal: null,
  stderrTail: stderrTail.slice(-20),
  lastEvents: [],
})

/** The top of the git work tree `dir` (default: this process's) is in, if any. */
const gitRootOf = (dir: string | undefined): string | undefined => {
  for (let at = resolve(dir ?? "."); ; at = dirname(at)) {
    if (existsSync(join(at, ".git"))) return at
    if (dirname(at) === at) return undefined
  }
}

/** Everything the process is started with: `processArgs` and the trust of the task's directories. */
const startArgs = (options: ExecOptions): Array<string> => {
  const dir = resolve(options.workingDir ?? ".")
  const root = gitRootOf(dir)
  const real = (p: string) => {
    try {
      return realpathSync(p)
    } catch {
      return p
    }
  }
  const dirs = [dir, real(dir), ...(root === undefined ? [] : [root, real(root)])]
  return [...processArgs(options), ...trustArgs(dirs)]
}

const missingDir = (dir: string | undefined): boolean => {
  if (dir === undefined) return false
  try {
    return !statSync(dir).isDirectory()
  } catch {
    return true
  }
}

/** A failed request → the exec error taxonomy (overloaded: retryable; unknown thread; …). */
const rpcError = (
  failure: RpcFailed,
  threadId: string | undefined,
  stderr: ReadonlyArray<string>,
): ExecError => {
  const evidence = evidenceOf(stderr)
  if (failure.code === OVERLOADED) {
    return new TransientFailure({
      message: `codex app-server is overloaded (${failure.message}); a retry may work.`,
      evidence,
    })
  }
  if (failure.method === "thread/resume" && failure.code !== undefined) {
    return new UnknownThread({
      message: `codex has no stored thread ${threadId ?? ""} to resume (it may belong to another CODEX_HOME). codex said: ${failure.message}`,
      evidence,
      ...(threadId === undefined ? {} : { threadId }),
    })
  }
  if (failure.method === "turn/start") return byTurnMessage(failure.message, evidence)
  if (failure.code === undefined) {
    return new ConfigRejected({
      message: `${failure.message}${stderr.length > 0 ? `; stderr: ${stderr.at(-1)}` : ""}`,
      evidence,
    })
  }
  return new ConfigRejected({
    message: `codex app-server refused ${failure.method}: ${failure.message}`,
    evidence,
  })
}

/** How the client starts an app-server: the real one (`connectAppServer`) or a scripted fake. */
export type ConnectAppServer = (
  spawn: AppServerSpawn,
) => Effect.Effect<AppServerConnection, ChildNotStarted, Scope.Scope>

const makeClient = (config: AppServerConfig, connect: ConnectAppServer) =>
  Effect.gen(function* () {
    const processes = yield* Processes
    const layerScope = yield* Effect.scope
    let warm: Warm | undefined
    const oneRun = yield* Effect.makeSemaphore(1)

    const retire = (w: Warm) =>
      Effect.gen(function* () {
        if (warm === w) warm = undefined
        yield* Scope.close(w.scope, Exit.void)
        const identities = yield* w.seen.current
        yield* killRun({ marker: w.runId, identities }).pipe(
          Effect.provideService(Processes, processes),
        )
      })
    yield* Effect.addFinalizer(() => (warm === undefined ? Effect.void : retire(warm)))

    const start = (request: ExecRequest, key: string) =>
      Effect.gen(function* () {
        const { options } = request
        const runId = request.runId ?? randomUUID()
        const env: NodeJS.ProcessEnv = { ...(config.env ?? process.env), [RUN_MARKER_VAR]: runId }
        if (options.configFile !== undefined) env.CODEX_HOME = dirname(options.configFile)
        const scope = yield* Scope.fork(layerScope, ExecutionStrategy.sequential)
        const holder: { w?: Warm } = {}
        const conn = yield* connect({
          bin: config.codexBin,
          args: startArgs(options),
          cwd: options.workingDir,
          env,
          graceMs: config.graceMs ?? 3_000,
          onStderr: (line) => holder.w?.stderr(line),
          onOtherLine: (line) => holder.w?.stderr(line),
        }).pipe(
          Scope.extend(scope),
          Effect.catchTag("ChildNotStarted", (e) =>
            Effect.zipRight(
              Scope.close(scope, Exit.void),
              Effect.fail(bySpawnError({ code: e.code, message: e.message }, evidenceOf([]))),
            ),
          ),
        )
        const seen = yield* makeSeen(conn.pid).pipe(Effect.provideService(Processes, processes))
        const w: Warm = {
          key,
          conn,
          scope,
          runId,
          loaded: new Set(),
          seen,
          stderr: () => {},
          onSeen: undefined,
        }
        holder.w = w
        const snapshot = Effect.gen(function* () {
          if (!(yield* seen.snapshot) || w.onSeen === undefined) return
          yield* w.onSeen(yield* seen.current).pipe(Effect.catchAllCause(() => Effect.void))
        })
        yield* Effect.forkIn(
          Effect.gen(function* () {
            while (!conn.hasEnded()) {
              yield* snapshot
              yield* Effect.sleep(config.snapshotIntervalMs ?? 500)
            }
          }),
          scope,
        )
        return w
      })

    const ensure = (request: ExecRequest, stderr: Array<string>) =>
      Effect.gen(function* () {
        const { options } = request
        const key = JSON.stringify([startArgs(options), options.workingDir, options.configFile])
        if (warm !== undefined && (warm.key !== key || warm.conn.hasEnded())) yield* retire(warm)
        if (warm !== undefined) return { w: warm, fresh: false }
        const w = yield* start(request, key)
        w.stderr = (line) => stderr.push(line)
        const init = yield* w.conn
          .request("initialize", {
            clientInfo: CLIENT,
            capabilities: { experimentalApi: false, optOutNotificationMethods: UNREAD_STREAMING },
          })
          .pipe(Effect.either)
        if (init._tag === "Left") {
          yield* retire(w)
          return yield* Effect.fail(rpcError(init.left, undefined, stderr))
        }
        yield* w.conn.notify("initialized")
        warm = w
        return { w, fresh: true }
      })

    const run = (request: ExecRequest) =>
      Effect.gen(function* () {
        const { options } = request
        if (missingDir(options.workingDir)) {
          return yield* new ConfigRejected({
            message: `The working directory ${options.workingDir} does not exist or is not a directory.`,
            evidence: evidenceOf([]),
          })
        }
        // app-server has no git check of its own: exec's refusal, with exec's words.
        if (!options.skipGitRepoCheck && gitRootOf(options.workingDir) === undefined) {
          return yield* new UntrustedDirectory({
            message:
              "codex refused to run here: Not inside a trusted directory and --skip-git-repo-check was not specified.",
            evidence: evidenceOf([]),
          })
        }
        yield* Effect.acquireRelease(oneRun.take(1), () => oneRun.release(1))
        rmSync(request.outputLastMessage, { force: true })
        const stderrAll: Array<string> = []
        const { w } = yield* ensure(request, stderrAll)

        const mailbox = yield* Mailbox.make<ExecOutput>()
        const finished = yield* Deferred.make<void>()
        const lines: Array<ExecLine> = []
        const stderrTail: Array<string> = []
        let threadId: string | undefined
        let turnId: string | undefined
        let interruptedByUs = false
        let reconnectStall = false
        let failure: ExecError | undefined
        // What the reconnect-stall detector reads (as exec's client does).
        const stallInput = yield* Mailbox.make<ExecLine>()
        // The files of each file-change item, for its approval request (which names only the item).
        const files = new Map<string, ReadonlyArray<string>>()
        // Answers being waited for: interrupted when the run ends.
        const answering = yield* FiberSet.make()

        const emitLine = (line: ExecLine, raw: string) => {
          lines.push(line)
          if (lines.length > LINES_KEPT) lines.splice(0, lines.length - LINES_KEPT)
          mailbox.unsafeOffer({ _tag: "Stdout", line, bytes: Buffer.from(raw, "utf8") })
          stallInput.unsafeOffer(line)
        }
        const emit = (event: Record<string, unknown>) => {
          const raw = JSON.stringify(event)
          emitLine(decodeLine(raw), raw)
        }
        const onStderr = (text: string) => {
          stderrTail.push(text)
          if (stderrTail.length > STDERR_TAIL) stderrTail.shift()
          mailbox.unsafeOffer({ _tag: "Stderr", text })
        }
        for (const line of stderrAll) onStderr(line)
        w.stderr = onStderr
        w.onSeen = request.onProcessesSeen

        const finish = Effect.sync(() => {
          mailbox.unsafeDone(Exit.void)
          stallInput.unsafeDone(Exit.void)
          Deferred.unsafeDone(finished, Effect.void)
        })

        const drive = Effect.gen(function* () {
          const resume = request.resumeThreadId
          const params = threadParams(options)
          if (resume === undefined) {
            const started = yield* w.conn.request("thread/start", params)
            threadId = threadIdOf(started)
          } else if (!w.loaded.has(resume)) {
            const resumed = yield* w.conn.request("thread/resume", { ...params, threadId: resume })
            threadId = threadIdOf(resumed) ?? resume
          } else threadId = resume
          if (threadId === undefined) {
            return yield* new RpcFailed({
              method: "thread/start",
              code: -1,
              message: "the answer named no thread",
            })
          }
          w.loaded.add(threadId)
          emit({ type: "thread.started", thread_id: threadId })
          const translator = makeTurnTranslator(threadId)
          const turnParams: Record<string, unknown> = {
            threadId,
            input: turnInput(request.prompt, resume === undefined ? (options.images ?? []) : []),
          }
          if (options.outputSchema !== undefined) {
            turnParams.outputSchema = JSON.parse(readFileSync(options.outputSchema, "utf8"))
          }
          w.conn.listen((message) => {
            if (message.method === "item/started") noteFileChange(files, message.params)
            if (message.id !== undefined) {
              const id = message.id
              // Kept in the log as it came; the worker notes the request and the answer too.
              emit({ type: `app_server.${message.method}`, params: message.params })
              const asked = approvalOf(message, files)
              if (asked === undefined) {
                Effect.runFork(w.conn.respondError(id, METHOD_NOT_FOUND, unserved(message.method)))
                return
              }
              const declined: ApprovalReply = { decision: "decline" }
              const answer =
                request.onApproval === undefined
                  ? Effect.succeed(declined)
                  : request
                      .onApproval(asked)
                      .pipe(Effect.catchAllCause(() => Effect.succeed(declined)))
              Effect.runFork(
                FiberSet.run(
                  answering,
                  Effect.flatMap(answer, (reply) =>
                    Effect.zipRight(
                      w.conn.respond(id, responseOf(message.method, message.params, reply)),
                      reply.afterAnswer ?? Effect.void,
                    ),
                  ),
                ),
              )
              return
            }
            const reset = exhaustedUntil(message)
            if (reset !== undefined && request.onUsageLimitReset !== undefined) {
              Effect.runFork(request.onUsageLimitReset(reset).pipe(Effect.ignore))
            }
            for (const event of translator.push(message.method, message.params)) emit(event)
            if (message.method === "turn/completed") Effect.runFork(finish)
          })
          const turn = yield* w.conn.request("turn/start", turnParams)
          turnId = turnIdOf(turn)
        }).pipe(
          Effect.catchAll((e) =>
            Effect.sync(() => {
              failure =
                e instanceof RpcFailed
                  ? rpcError(e, request.resumeThreadId, stderrTail)
                  : new ConfigRejected({
                      message: `codex-tasks could not read --output-schema ${options.outputSchema}: ${String(e)}`,
                      evidence: evidenceOf(stderrTail),
                    })
              emit({ type: "error", message: failure.message })
            }).pipe(Effect.zipRight(finish)),
          ),
          Effect.catchAllDefect((defect) =>
            Effect.sync(() => {
              failure = new ConfigRejected({
                message: `codex-tasks could not start the turn: ${String(defect)}`,
                evidence: evidenceOf(stderrTail),
              })
            }).pipe(Effect.zipRight(finish)),
          ),
        )
        const driver = yield* Effect.forkScoped(drive)
        // The process ending ends the run (its turn can no longer complete).
        yield* Effect.forkScoped(Effect.zipRight(w.conn.closed, finish))

        const stop = Effect.gen(function* () {
          if (yield* Deferred.isDone(finished)) return
          interruptedByUs = true
          yield* Fiber.await(driver).pipe(Effect.timeoutOption(config.graceMs ?? 3_000))
          if (threadId !== undefined && turnId !== undefined) {
            yield* w.conn
              .request("turn/interrupt", { threadId, turnId })
              .pipe(Effect.ignore, Effect.timeoutOption(config.graceMs ?? 3_000))
          }
          const ended = yield* Deferred.await(finished).pipe(
            Effect.timeoutOption(config.graceMs ?? 3_000),
          )
          // codex did not end the turn: the process goes, with every process of the run.
          if (Option.isNone(ended)) {
            yield* w.seen.snapshot
            yield* retire(w)
            yield* finish
          }
        })
        const interrupt = yield* Effect.cached(stop)
        // codex without its model provider retries forever: such a turn is stopped (ReconnectLoop).
        yield* watchReconnectStall(
          stallInput,
          config.reconnectTimeoutMs,
          Effect.sync(() => {
            reconnectStall = true
          }).pipe(Effect.zipRight(Effect.forkDaemon(interrupt))),
        )
        yield* Effect.addFinalizer(() =>
          Effect.gen(function* () {
            yield* interrupt
            w.conn.listen(undefined)
            w.stderr = () => {}
            w.onSeen = undefined
          }),
        )

        const result: Effect.Effect<ExecResult> = yield* Effect.cached(
          Effect.gen(function* () {
            yield* Deferred.await(finished)
            const end = w.conn.hasEnded() ? Option.some(yield* w.conn.closed) : Option.none()
            const exitCode = Option.isSome(end) ? end.value.exitCode : null
            const signal = Option.isSome(end) ? end.value.signal : null
            const outcome: ExecOutcome =
              failure !== undefined
                ? { _tag: "Failed", threadId, error: failure }
                : classify({
                    exitCode,
                    signal,
                    stderrLines: stderrTail,
                    lines,
                    requestedThreadId: request.resumeThreadId,
                    interruptedByUs,
                    reconnectStall,
                  })
            if (outcome._tag === "Completed" && outcome.finalMessage !== undefined) {
              writeFileSync(request.outputLastMessage, outcome.finalMessage)
            }
            return { outcome, exitCode, signal, stderrTail: [...stderrTail] }
          }),
        )
        // Joins the turn in flight; a turn that ended (or another one) makes codex refuse it.
        const steer = (prompt: string) =>
          Effect.gen(function* () {
            if (yield* Deferred.isDone(finished)) return false
            if (threadId === undefined || turnId === undefined) return false
            const answer = yield* w.conn
              .request("turn/steer", {
                threadId,
                expectedTurnId: turnId,
                input: turnInput(prompt, []),
              })
              .pipe(Effect.either)
            return answer._tag === "Right"
          })
        const output = Mailbox.toStream(mailbox)
        return {
          steer,
          pid: w.conn.pid,
          runId: w.runId,
          output,
          events: eventsOf(output, result),
          interrupt,
          result,
          processesSeen: w.seen.current,
        } satisfies ExecRun
      })

    return { run }
  })

const unserved = (method: string) =>
  `codex-tasks does not serve ${method}; it answers approval and input requests only`

const isRec = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const threadIdOf = (answer: unknown): string | undefined =>
  isRec(answer) && isRec(answer.thread) && typeof answer.thread.id === "string"
    ? answer.thread.id
    : undefined

const noteFileChange = (files: Map<string, ReadonlyArray<string>>, params: unknown) => {
  if (!isRec(params) || !isRec(params.item) || params.item.type !== "fileChange") return
  const changes = Array.isArray(params.item.changes) ? params.item.changes : []
  const paths = changes.flatMap((c) => (isRec(c) && typeof c.path === "string" ? [c.path] : []))
  if (typeof params.item.id === "string") files.set(params.item.id, paths)
}

/**
 * The reset time (ms) of a used-up rate-limit window in an `account/rateLimits/updated`, if any:
 * the latest of the windows at 100 %.
 */
export const exhaustedUntil = (message: {
  readonly method: string
  readonly params: unknown
}): number | undefined => {
  if (message.method !== "account/rateLimits/updated" || !isRec(message.params)) return undefined
  const limits = message.params.rateLimits
  if (!isRec(limits)) return undefined
  const resets = [limits.primary, limits.secondary].flatMap((w) =>
    isRec(w) &&
    typeof w.usedPercent === "number" &&
    w.usedPercent >= 100 &&
    typeof w.resetsAt === "number"
      ? [w.resetsAt * 1_000]
      : [],
  )
  return resets.length === 0 ? undefined : Math.max(...resets)
}

const turnIdOf = (answer: unknown): string | undefined =>
  isRec(answer) && isRec(answer.turn) && typeof answer.turn.id === "string"
    ? answer.turn.id
    : undefined

/** The `CodexExec` port on a warm `codex app-server` (one process per layer scope). */
export const layer = (config: AppServerConfig): Layer.Layer<CodexExec> =>
  Layer.scoped(
    CodexExec,
    makeClient(config, connectAppServer).pipe(Effect.provideService(Processes, liveProcesses)),
  )

/** The same client over another way to start the app-server and a given process table. */
export const layerWith = (
  config: AppServerConfig,
  connect: ConnectAppServer,
): Layer.Layer<CodexExec, never, Processes> => Layer.scoped(CodexExec, makeClient(config, connect))
