/**
 * A JSON-RPC 2.0 connection to one `codex app-server` over its stdio (one JSON message a line,
 * the `jsonrpc` field omitted as codex does). The process runs in its own process group, started
 * through `processes/child.ts`; closing the scope closes its stdin (codex exits and aborts a
 * running turn), then SIGKILLs the group if it is still there after the grace period.
 */
import { Data, Deferred, Effect, type Scope } from "effect"
import { type ChildEnd, type ChildNotStarted, startDetached } from "../../processes/child.js"
import { sendSignal } from "../../processes/procfs.js"
import { DECODE_CAP_BYTES, makeLineSplitter } from "../lines.js"

/** A request the app-server answered with an error, or could not answer (it exited). */
export class RpcFailed extends Data.TaggedError("RpcFailed")<{
  readonly method: string
  /** The JSON-RPC error code; undefined when the process ended first. */
  readonly code: number | undefined
  readonly message: string
}> {}

/** The JSON-RPC code of "Server overloaded; retry later" (codex-rs/app-server/README.md). */
export const OVERLOADED = -32001

/** The JSON-RPC code of "method not found": our answer to a request we do not serve. */
export const METHOD_NOT_FOUND = -32601

/** A message the app-server sent us: a notification, or a request (with `id`) we must answer. */
export interface ServerMessage {
  readonly method: string
  readonly params: unknown
  readonly id?: number | string | undefined
}

/** One live app-server process and its conversation. */
export interface AppServerConnection {
  readonly pid: number
  /** Sends a request and waits for its answer. */
  readonly request: (method: string, params: unknown) => Effect.Effect<unknown, RpcFailed>
  /** Sends a notification. */
  readonly notify: (method: string, params?: unknown) => Effect.Effect<void>
  /** Answers a request of the server. */
  readonly respond: (id: number | string, result: unknown) => Effect.Effect<void>
  /** Answers a request of the server with an error. */
  readonly respondError: (id: number | string, code: number, message: string) => Effect.Effect<void>
  /** Who gets the server's notifications and requests from now on (one listener at a time). */
  readonly listen: (listener: ((message: ServerMessage) => void) | undefined) => void
  /** Resolves once the process has exited and its pipes are closed. */
  readonly closed: Effect.Effect<ChildEnd>
  /** Whether the process has ended. */
  readonly hasEnded: () => boolean
}

/** How to start the app-server. */
export interface AppServerSpawn {
  readonly bin: string
  readonly args: ReadonlyArray<string>
  readonly cwd?: string | undefined
  readonly env: NodeJS.ProcessEnv
  /** Each line codex prints on stderr. */
  readonly onStderr: (line: string) => void
  /** Each line of stdout that is not a JSON-RPC message (kept by the caller, never fatal). */
  readonly onOtherLine: (line: string) => void
  /** After stdin is closed, how long codex gets to exit before its group is killed (ms). */
  readonly graceMs: number
}

const isRec = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Starts `bin app-server …` and returns the connection; the process lives as long as the scope. */
export const connectAppServer = (
  spawn: AppServerSpawn,
): Effect.Effect<AppServerConnection, ChildNotStarted, Scope.Scope> =>
  Effect.gen(function* () {
    const pending = new Map<number, (answer: { result?: unknown; error?: unknown }) => void>()
    let listener: ((message: ServerMessage) => void) | undefined
    let nextId = 1
    let ended = false
    const ending = yield* Deferred.make<ChildEnd>()

    const onLine = (bytes: Buffer) => {
      const text = bytes.toString("utf8")
      let message: unknown
      try {
        message = JSON.parse(text)
      } catch {
        return spawn.onOtherLine(text)
      }
      if (!isRec(message)) return spawn.onOtherLine(text)
      if (typeof message.method === "string") {
        const id = message.id
        listener?.({
          method: message.method,
          params: message.params,
          ...(typeof id === "number" || typeof id === "string" ? { id } : {}),
        })
        return
      }
      if (typeof message.id === "number") {
        const resolve = pending.get(message.id)
        pending.delete(message.id)
        resolve?.({ result: message.result, error: message.error })
        return
      }
      spawn.onOtherLine(text)
    }
    const out = makeLineSplitter(onLine, DECODE_CAP_BYTES)
    const err = makeLineSplitter(
      (bytes) => spawn.onStderr(bytes.toString("utf8")),
      DECODE_CAP_BYTES,
    )

    const child = yield* startDetached(spawn.bin, ["app-server", ...spawn.args], {
      cwd: spawn.cwd,
      env: spawn.env,
      keepStdinOpen: true,
      onStdout: (chunk) => out.push(chunk),
      onStderr: (chunk) => err.push(chunk),
      onClose: (end) => {
        out.flush()
        err.flush()
        ended = true
        for (const resolve of pending.values()) resolve({ error: undefined })
        pending.clear()
        Deferred.unsafeDone(ending, Effect.succeed(end))
      },
    })

    const send = (message: Record<string, unknown>) =>
      Effect.sync(() => child.write(`${JSON.stringify(message)}\n`))

    const request = (method: string, params: unknown) =>
      Effect.async<unknown, RpcFailed>((resume) => {
        if (ended) {
          resume(Effect.fail(gone(method)))
          return
        }
        const id = nextId++
        pending.set(id, ({ result, error }) => {
          if (error === undefined && result !== undefined) return resume(Effect.succeed(result))
          if (!isRec(error)) return resume(Effect.fail(gone(method)))
          const code = typeof error.code === "number" ? error.code : undefined
          const message = typeof error.message === "string" ? error.message : JSON.stringify(error)
          resume(Effect.fail(new RpcFailed({ method, code, message })))
        })
        child.write(`${JSON.stringify({ id, method, params })}\n`)
        return Effect.sync(() => pending.delete(id))
      })

    // Closing stdin ends codex (it aborts a running turn); the group is killed if it lingers.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        if (ended) return
        child.endStdin()
        const exited = yield* Deferred.await(ending).pipe(Effect.timeoutOption(spawn.graceMs))
        if (exited._tag === "None") {
          sendSignal(-child.pid, "SIGKILL")
          yield* Deferred.await(ending).pipe(Effect.timeoutOption(5_000))
        }
      }),
    )

    return {
      pid: child.pid,
      request,
      notify: (method, params) =>
        Effect.asVoid(send(params === undefined ? { method } : { method, params })),
      respond: (id, result) => Effect.asVoid(send({ id, result })),
      respondError: (id, code, message) => Effect.asVoid(send({ id, error: { code, message } })),
      listen: (l) => {
        listener = l
      },
      closed: Deferred.await(ending),
      hasEnded: () => ended,
    } satisfies AppServerConnection
  })

const gone = (method: string) =>
  new RpcFailed({
    method,
    code: undefined,
    message: `codex app-server exited before it answered ${method}`,
  })
