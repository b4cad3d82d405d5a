import { spawn } from "node:child_process"
import { Context, Data, Deferred, Effect, Layer, Schema } from "effect"
import { RUN_MARKER_VAR } from "../processes/Processes.js"
import { Handshake, type WorkerRequest } from "../worker/protocol.js"

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
    ) => Effect.Effect<LaunchedWorker, WorkerLaunchFailed>
  }
>() {}

const withoutRunMarker = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const { [RUN_MARKER_VAR]: _, ...rest } = env
  return rest
}

const decodeHandshake = Schema.decodeUnknownEither(Schema.parseJson(Handshake))

/**
 * Launches `command` (e.g. `[process.execPath, "/path/to/codex-tasks", "__worker"]`) detached:
 * a new session, so neither a closing terminal nor Ctrl-C in the calling shell reaches it; stdio
 * is released once the handshake line has arrived.
 */
export const layer = (command: ReadonlyArray<string>): Layer.Layer<WorkerLauncher> =>
  Layer.succeed(WorkerLauncher, {
    launch: (request, cwd) =>
      Effect.gen(function* () {
        const [bin, ...args] = command
        const child = yield* Effect.try({
          try: () =>
            spawn(bin!, args, {
              cwd,
              // A task started from inside another task's run (codex calling codex-tasks) is its
              // own task: it must not carry the parent run's cleanup marker.
              env: withoutRunMarker(process.env),
              detached: true,
              stdio: ["pipe", "pipe", "ignore"],
            }),
          catch: (e) =>
            new WorkerLaunchFailed({ message: `cannot start the worker: ${String(e)}` }),
        })
        const pid = yield* Effect.async<number, WorkerLaunchFailed>((resume) => {
          child.once("error", (e) =>
            resume(
              Effect.fail(
                new WorkerLaunchFailed({ message: `cannot start the worker: ${e.message}` }),
              ),
            ),
          )
          child.once("spawn", () => resume(Effect.succeed(child.pid!)))
        })
        child.stdin!.on("error", () => {})
        child.stdin!.end(JSON.stringify(request))
        const answer = yield* Deferred.make<Handshake, WorkerLaunchFailed>()
        let text = ""
        const done = (effect: Effect.Effect<Handshake, WorkerLaunchFailed>) => {
          child.stdout!.removeAllListeners("data")
          child.removeAllListeners("close")
          child.stdout!.destroy()
          child.unref()
          Deferred.unsafeDone(answer, effect)
        }
        child.stdout!.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8")
          const nl = text.indexOf("\n")
          if (nl === -1) return
          const decoded = decodeHandshake(text.slice(0, nl))
          done(
            decoded._tag === "Right"
              ? Effect.succeed(decoded.right)
              : Effect.fail(new WorkerLaunchFailed({ message: "the worker answered garbage" })),
          )
        })
        child.once("close", (code, signal) =>
          done(
            Effect.fail(
              new WorkerLaunchFailed({
                message: `the worker exited (${signal ?? `code ${code}`}) before reporting back`,
              }),
            ),
          ),
        )
        return { pid, handshake: Deferred.await(answer) }
      }),
  })
