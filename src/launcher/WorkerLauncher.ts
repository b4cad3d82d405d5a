import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import { Context, Data, Deferred, Effect, Either, Layer, ParseResult, Schema } from "effect"
import {
  adoptDetached,
  type ChildEnd,
  type DetachedChild,
  type DetachedOptions,
  startDetached,
} from "../processes/child.js"
import { newStartDir, WORKER_STDERR } from "../store/scratchNames.js"
import { claimPrewarmed, workerEnv } from "./prewarm.js"
import { Handshake, WorkerRequest } from "./protocol.js"
import { decodeNotice, type WorkerNotice } from "./workerNotice.js"

/** The worker process could not be started or ended without answering. */
export class WorkerLaunchFailed extends Data.TaggedError("WorkerLaunchFailed")<{
  readonly message: string
}> {}

/** A launched worker: its pid and the handshake it answered. */
export interface LaunchedWorker {
  readonly pid: number
  /** Resolves to the worker's one-line answer. */
  readonly handshake: Effect.Effect<Handshake, WorkerLaunchFailed>
}

/** Starts detached worker processes. */
export class WorkerLauncher extends Context.Tag("codex-tasks/WorkerLauncher")<
  WorkerLauncher,
  {
    /** Spawns a worker in its own session, hands it `request` over a pipe. */
    readonly launch: (
      request: WorkerRequest,
      cwd: string,
      /** Where the worker's own stderr goes (appended); a start's goes to its scratch dir. */
      stderrFile?: string,
      /** Called for each notice the worker writes before its handshake (a start waiting for a slot). */
      onNotice?: (notice: WorkerNotice) => void,
    ) => Effect.Effect<LaunchedWorker, WorkerLaunchFailed>
  }
>() {}

const decodeHandshake = Schema.decodeUnknownEither(Schema.parseJson(Handshake))
const encodeRequest = Schema.encodeEither(WorkerRequest)

/** `request`'s encoded form, or why it has none (its first problem, e.g. a limit that is no integer). */
const encoded = (request: WorkerRequest): Effect.Effect<unknown, WorkerLaunchFailed> =>
  Either.match(encodeRequest(request), {
    onRight: (value) => Effect.succeed(value),
    onLeft: (error) => {
      const [first] = ParseResult.ArrayFormatter.formatErrorSync(error)
      const where =
        first === undefined || first.path.length === 0 ? "" : `${first.path.join(".")}: `
      return Effect.fail(
        new WorkerLaunchFailed({
          message: `cannot hand the task to a worker: ${where}${first?.message ?? error.message}`,
        }),
      )
    },
  })

/** Opens the worker's stderr file for appending (private); undefined when there is none. */
const openStderr = (path: string | undefined, dir: string | undefined): number | undefined => {
  if (path === undefined) return undefined
  try {
    if (dir !== undefined) mkdirSync(dir, { recursive: true, mode: 0o700 })
    return openSync(path, "a", 0o600)
  } catch {
    return undefined
  }
}

/** The last lines the worker wrote on stderr, for the message of a worker that died early. */
const stderrTail = (path: string | undefined): string => {
  if (path === undefined) return ""
  try {
    const text = readFileSync(path, "utf8").trim()
    return text === "" ? "" : `; it said: ${text.split("\n").slice(-5).join(" | ")}`
  } catch {
    return ""
  }
}

/** Spawns a worker in its own session (stdin and stdout piped, stderr appended to `errPath`). */
const spawnWorker = (
  bin: string,
  args: ReadonlyArray<string>,
  cwd: string,
  errPath: string | undefined,
  scratchDir: string | undefined,
  options: DetachedOptions,
): Effect.Effect<DetachedChild, WorkerLaunchFailed> => {
  const errFd = openStderr(errPath, scratchDir)
  // A task started from inside another task's run (codex calling codex-tasks) is its own
  // task: `workerEnv` drops the parent run's cleanup marker.
  return startDetached(bin, args, {
    ...options,
    cwd,
    env: workerEnv(),
    stderr: errFd ?? "ignore",
  }).pipe(
    Effect.mapError(
      (e) => new WorkerLaunchFailed({ message: `cannot start the worker: ${e.message}` }),
    ),
    Effect.ensuring(Effect.sync(() => errFd !== undefined && closeSync(errFd))),
  )
}

/**
 * Launches `command` (e.g. `[process.execPath, "/path/to/codex-tasks", "__worker"]`) detached:
 * a new session, so neither a closing terminal nor Ctrl-C in the calling shell reaches it; stdio
 * is released once the handshake line has arrived.
 */
export const layer = (command: ReadonlyArray<string>): Layer.Layer<WorkerLauncher> =>
  Layer.succeed(WorkerLauncher, {
    launch: (given, cwd, stderrFile, onNotice) =>
      Effect.gen(function* () {
        // A relative codex would be looked up from the task's directory (`--codex-bin` is made
        // absolute by the CLI; a bare name it found nowhere on PATH never reaches a worker).
        if (given._tag !== "Notify" && !isAbsolute(given.codexBin)) {
          return yield* new WorkerLaunchFailed({
            message: `The codex executable was not found (${given.codexBin} is not on PATH); install codex or pass --codex-bin.`,
          })
        }
        // Checked before a worker exists: one that got no request would wait for it forever
        // (and a claimed prewarmed worker keeps this process alive).
        yield* encoded(given)
        const [bin, ...args] = command
        // A start's worker writes its stderr into the start's scratch directory, which moves
        // into the task directory once the task exists (a crash of the worker leaves a trace).
        // A worker the launcher spawned ahead (launcher/prewarm.ts) already has one.
        const prewarmed =
          given._tag === "Start" && stderrFile === undefined
            ? claimPrewarmed(given.storeRoot, command)
            : undefined
        const scratchDir =
          prewarmed?.scratchDir ??
          (given._tag === "Start" ? newStartDir(given.storeRoot) : undefined)
        const request: WorkerRequest =
          given._tag === "Start" && scratchDir !== undefined ? { ...given, scratchDir, cwd } : given
        const errPath = stderrFile ?? (scratchDir && join(scratchDir, WORKER_STDERR))
        const payload = yield* encoded(request)
        const answer = yield* Deferred.make<Handshake, WorkerLaunchFailed>()
        let text = ""
        let worker: DetachedChild | undefined
        let outcome: Effect.Effect<Handshake, WorkerLaunchFailed> | undefined
        const done = (effect: Effect.Effect<Handshake, WorkerLaunchFailed>) => {
          if (outcome !== undefined) return
          outcome = effect
          worker?.release()
          Deferred.unsafeDone(answer, effect)
        }
        const onStdout = (chunk: Buffer) => {
          if (outcome !== undefined) return
          text += chunk.toString("utf8")
          let nl = text.indexOf("\n")
          // Notices come before the handshake: each is passed on, then the next line is read.
          for (let n = decodeNotice(text.slice(0, nl)); nl !== -1 && n._tag === "Some"; ) {
            onNotice?.(n.value)
            text = text.slice(nl + 1)
            nl = text.indexOf("\n")
            n = decodeNotice(text.slice(0, nl))
          }
          if (nl === -1) return
          const decoded = decodeHandshake(text.slice(0, nl))
          done(
            decoded._tag === "Right"
              ? Effect.succeed(decoded.right)
              : Effect.fail(new WorkerLaunchFailed({ message: "the worker answered garbage" })),
          )
        }
        const onClose = ({ exitCode, signal }: ChildEnd) =>
          done(
            Effect.fail(
              new WorkerLaunchFailed({
                message: `the worker exited (${signal ?? `code ${exitCode}`}) before reporting back${stderrTail(errPath)}`,
              }),
            ),
          )
        // The pipe carries the encoded form (exec options snake_case), decoded by the worker.
        const io: DetachedOptions = { stdin: JSON.stringify(payload), onStdout, onClose }
        worker =
          prewarmed === undefined
            ? yield* spawnWorker(bin!, args, cwd, errPath, scratchDir, io)
            : adoptDetached(prewarmed.child, io)
        if (outcome !== undefined) worker.release()
        const { pid } = worker
        // A start that failed leaves no task: its scratch directory (and stderr) goes too.
        const cleanUp = (h: Handshake) =>
          Effect.sync(() => {
            if (scratchDir !== undefined && h._tag === "Failed") {
              rmSync(scratchDir, { recursive: true, force: true })
            }
          })
        // A worker lost before its answer may have left its codex run going (writing into the
        // scratch directory): the directory stays for `sweepScratch` (the next worker, `stop -a`),
        // which ends the run it records, then removes it.
        const handshake = Deferred.await(answer).pipe(Effect.tap(cleanUp))
        return { pid, handshake }
      }),
  })
