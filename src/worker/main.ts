import { Cause, Effect, Layer, Schema } from "effect"
import * as Backends from "../exec/backends.js"
import { envForCodex } from "../exec/nativeCodex.js"
import { type Handshake, WorkerRequest } from "../launcher/protocol.js"
import type { WorkerNotice } from "../launcher/workerNotice.js"
import { setFaultRole } from "../store/faults.js"
import { guardedStoreRoot } from "../store/rootGuard.js"
import { TaskStore } from "../store/TaskStore.js"
import { fleetSlotsFromEnv } from "./fleetSlot.js"
import { RunSlots } from "./slot.js"
import { notifyOnly, runWorker } from "./Worker.js"
import { makeWorkerControl, type StopMode, WorkerControl } from "./WorkerControl.js"

const readStdin = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    process.stdin.on("data", (c: Buffer) => chunks.push(c))
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    process.stdin.on("error", reject)
  })

let answered = false
const handshake = (h: Handshake) =>
  Effect.sync(() => {
    if (answered) return
    answered = true
    // The only thing this process ever writes to stdout; the CLI stops reading after it.
    process.stdout.write(`${JSON.stringify(h)}\n`)
  })

// A notice (a start waiting for a run slot) comes before the handshake, never after it.
const notice = (n: WorkerNotice) =>
  Effect.sync(() => {
    if (!answered) process.stdout.write(`${JSON.stringify(n)}\n`)
  })

/**
 * Entry of the detached worker process (`codex-tasks __worker`): reads its request from the stdin
 * pipe, answers one handshake line on stdout, then runs the task until it has no work left.
 * SIGTERM/SIGINT stop the task now, SIGUSR1 after the current turn; SIGHUP is ignored (the worker
 * outlives the terminal that started it).
 */
export const workerMain = async (): Promise<void> => {
  setFaultRole("worker")
  process.on("SIGHUP", () => {})
  process.stdout.on("error", () => {}) // the CLI may be gone; nothing more is written anyway
  // Signals are caught from the first moment: a stop that arrives while the worker is still
  // starting up is remembered and honoured as soon as the task loop can act on it.
  let requestStop: ((mode: StopMode) => void) | undefined
  let pending: StopMode | undefined
  let requested = false
  const onSignal = (mode: StopMode) => () => {
    // No request yet (a prewarmed worker whose CLI is stuck): there is no task to stop, only this.
    if (!requested && mode === "now") process.exit(0)
    if (requestStop !== undefined) requestStop(mode)
    else if (pending !== "now") pending = mode
  }
  process.on("SIGTERM", onSignal("now"))
  process.on("SIGINT", onSignal("now"))
  process.on("SIGUSR1", onSignal("after-turn"))
  const text = await readStdin()
  requested = true
  // A worker spawned ahead of its request (launcher/prewarm.ts) whose CLI ended without one.
  if (text === "") process.exit(0)
  const request = Schema.decodeUnknownSync(Schema.parseJson(WorkerRequest))(text)
  // Before anything starts a child: the fleet's URL (a password) leaves this environment here.
  const fleetSlots = fleetSlotsFromEnv(
    request._tag === "Notify" ? undefined : request.fleetMaxRunning,
  )
  if (request._tag === "Start" && request.cwd !== undefined) process.chdir(request.cwd)
  if (request._tag === "Notify") {
    // Only the notifications of a run that ended without its worker's (see worker/notify.ts).
    await Effect.runPromise(
      notifyOnly(request, handshake).pipe(
        Effect.provide(TaskStore.Default.pipe(Layer.provide(guardedStoreRoot(request.storeRoot)))),
        Effect.catchAllCause((cause) =>
          handshake({ _tag: "Failed", errorTag: "NotifyFailed", message: messageOf(cause) }),
        ),
      ),
    )
    process.exit(0)
  }
  const program = Effect.gen(function* () {
    const made = yield* makeWorkerControl
    requestStop = (mode) => Effect.runFork(made.request(mode))
    if (pending !== undefined) yield* made.request(pending)
    yield* runWorker(request, handshake).pipe(Effect.provideService(WorkerControl, made.control))
  })
  const layers = Layer.mergeAll(
    // The same check as the CLI's, quietly: a root that became unsafe is not trusted here either.
    TaskStore.Default.pipe(Layer.provide(guardedStoreRoot(request.storeRoot))),
    // A native codex gets the variables its npm launcher would have set (see exec/nativeCodex.ts);
    // each turn runs on the task's backend (exec, or one warm app-server for this worker).
    Backends.layer({ codexBin: request.codexBin, env: envForCodex(request.codexBin) }),
    RunSlots.layer({ root: request.storeRoot, limit: request.maxRunning ?? 0, notice }),
    fleetSlots,
  )
  await Effect.runPromise(
    program.pipe(
      Effect.provide(layers),
      Effect.catchAllCause((cause) =>
        handshake({
          _tag: "Failed",
          errorTag: "WorkerFailed",
          message: `the worker failed: ${messageOf(cause)}`,
        }),
      ),
    ),
  )
  process.exit(0)
}

/** The one-line reason of a failure (never a stack trace). */
const messageOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error
    ? e.message
    : typeof e === "object" && e !== null && "message" in e
      ? String(e.message)
      : String(e)
}
