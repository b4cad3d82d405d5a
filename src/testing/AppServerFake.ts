import { Deferred, Effect, FiberId, type Layer } from "effect"
import { type ConnectAppServer, layerWith } from "../exec/appServer/AppServerLive.js"
import type { AppServerConnection, ServerMessage } from "../exec/appServer/rpc.js"
import { RpcFailed } from "../exec/appServer/rpc.js"
import type { CodexExec } from "../exec/CodexExec.js"
import type { ChildEnd } from "../processes/child.js"
import type { Processes } from "../processes/Processes.js"

/** One step of a scripted turn: a notification (threadId and turnId filled in), or an event. */
export type FakeTurnStep =
  | { readonly method: string; readonly params?: Record<string, unknown> }
  /** The app-server process dies here (the turn never completes). */
  | { readonly crash: true }
  /** The turn goes quiet here until `turn/interrupt`. */
  | { readonly hang: true }
  /** A request to the client (threadId and turnId filled in); the turn goes on once it is answered. */
  | { readonly request: string; readonly params?: Record<string, unknown> }

/** What a scripted app-server does. */
export interface FakeAppServerScript {
  /** The steps of each turn, in order (the last one repeats); default: one reply and completed. */
  readonly turns?: ReadonlyArray<ReadonlyArray<FakeTurnStep>>
  /** Requests answered with a JSON-RPC error, the first `times` times (default: always). */
  readonly failures?: Readonly<
    Record<string, { readonly code: number; readonly message: string; readonly times?: number }>
  >
  /** The id `thread/start` answers (default `fake-thread`). */
  readonly threadId?: string
}

/** A scripted `codex app-server`: connect the real client to it, look at what it was asked. */
export interface FakeAppServer {
  /** For `AppServerLive.layerWith`. */
  readonly connect: ConnectAppServer
  /** The client over this fake (needs a `Processes`, e.g. `makeFakeProcesses().layer`). */
  readonly layer: Layer.Layer<CodexExec, never, Processes>
  /** Every request, in order, with the process (1-based) it went to. */
  readonly requests: ReadonlyArray<{
    readonly process: number
    readonly method: string
    readonly params: unknown
  }>
  /** How many processes were started. */
  readonly started: () => number
  /** The client's answers to the fake's requests, in order (`result`, or `error` when refused). */
  readonly answers: ReadonlyArray<{
    readonly method: string
    readonly result?: unknown
    readonly error?: { readonly code: number; readonly message: string }
  }>
}

/** The default turn: a message, the usage, completed. */
export const fakeReplyTurn = (text: string): ReadonlyArray<FakeTurnStep> => [
  { method: "turn/started", params: {} },
  {
    method: "item/completed",
    params: { item: { type: "agentMessage", id: "msg", text } },
  },
  {
    method: "thread/tokenUsage/updated",
    params: {
      tokenUsage: {
        total: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 2 },
        last: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 2 },
      },
    },
  },
  { method: "turn/completed", params: { turn: { status: "completed" } } },
]

/** A fake app-server following `script` (see `FakeAppServerScript`); `config` tunes the client. */
export const makeFakeAppServer = (
  script: FakeAppServerScript = {},
  config: { readonly reconnectTimeoutMs?: number } = {},
): FakeAppServer => {
  const requests: Array<{ process: number; method: string; params: unknown }> = []
  const answers: Array<{
    method: string
    result?: unknown
    error?: { code: number; message: string }
  }> = []
  let nextRequest = 0
  const failed = new Map<string, number>()
  let processes = 0
  let turns = 0

  const connect: ConnectAppServer = () =>
    Effect.sync(() => {
      const process = ++processes
      const pid = 900_000 + process
      let listener: ((m: ServerMessage) => void) | undefined
      let ended = false
      let inFlight: { threadId: string; turnId: string } | undefined
      const closed = Deferred.unsafeMake<ChildEnd>(FiberId.none)
      const end = (signal: string | null) => {
        if (ended) return
        ended = true
        Deferred.unsafeDone(closed, Effect.succeed({ exitCode: null, signal }))
      }
      const notify = (method: string, params: Record<string, unknown>) =>
        listener?.({ method, params })
      // The fake's requests waiting for the client's answer: id → method and what comes next.
      const asked = new Map<number, { method: string; goOn: () => void }>()

      const play = (steps: ReadonlyArray<FakeTurnStep>, threadId: string, turnId: string) => {
        const next = (i: number) => {
          if (ended || inFlight?.turnId !== turnId) return
          const step = steps[i]
          if (step === undefined) return
          if ("crash" in step) return end("SIGKILL")
          if ("hang" in step) return
          if ("request" in step) {
            const id = ++nextRequest
            asked.set(id, { method: step.request, goOn: () => setImmediate(() => next(i + 1)) })
            listener?.({ method: step.request, params: { threadId, turnId, ...step.params }, id })
            return
          }
          const params = { threadId, turnId, ...step.params }
          if (step.method === "turn/completed") inFlight = undefined
          notify(step.method, params)
          setImmediate(() => next(i + 1))
        }
        setImmediate(() => next(0))
      }

      const answer = (method: string, params: Record<string, unknown>): unknown => {
        switch (method) {
          case "initialize":
            return { userAgent: "fake" }
          case "thread/start":
            return { thread: { id: script.threadId ?? "fake-thread" } }
          case "thread/resume":
            return { thread: { id: params.threadId } }
          case "turn/start": {
            const threadId = String(params.threadId)
            const turnId = `fake-turn-${++turns}`
            const all = script.turns ?? []
            const steps =
              all[Math.min(turns - 1, all.length - 1)] ?? fakeReplyTurn(`reply ${turns}`)
            inFlight = { threadId, turnId }
            play(steps, threadId, turnId)
            return { turn: { id: turnId } }
          }
          case "turn/interrupt": {
            const turn = inFlight
            if (turn !== undefined && turn.turnId === params.turnId) {
              inFlight = undefined
              setImmediate(() =>
                notify("turn/completed", {
                  threadId: turn.threadId,
                  turn: { id: turn.turnId, status: "interrupted" },
                }),
              )
            }
            return {}
          }
          default:
            return {}
        }
      }

      const connection: AppServerConnection = {
        pid,
        request: (method, raw) =>
          Effect.suspend(() => {
            const params = (typeof raw === "object" && raw !== null ? raw : {}) as Record<
              string,
              unknown
            >
            requests.push({ process, method, params: raw })
            if (ended) {
              return Effect.fail(
                new RpcFailed({ method, code: undefined, message: "the fake app-server exited" }),
              )
            }
            const failure = script.failures?.[method]
            const count = failed.get(method) ?? 0
            if (failure !== undefined && (failure.times === undefined || count < failure.times)) {
              failed.set(method, count + 1)
              return Effect.fail(
                new RpcFailed({ method, code: failure.code, message: failure.message }),
              )
            }
            return Effect.succeed(answer(method, params))
          }),
        notify: () => Effect.void,
        respond: (id, result) =>
          Effect.sync(() => {
            const request = asked.get(Number(id))
            if (request === undefined) return
            asked.delete(Number(id))
            answers.push({ method: request.method, result })
            request.goOn()
          }),
        respondError: (id, code, message) =>
          Effect.sync(() => {
            const request = asked.get(Number(id))
            if (request === undefined) return
            asked.delete(Number(id))
            answers.push({ method: request.method, error: { code, message } })
            request.goOn()
          }),
        listen: (l) => {
          listener = l
        },
        closed: Deferred.await(closed),
        hasEnded: () => ended,
      }
      return { connection, end }
    }).pipe(
      // Closing the scope closes its stdin: the app-server exits.
      Effect.tap(({ end }) => Effect.addFinalizer(() => Effect.sync(() => end(null)))),
      Effect.map(({ connection }) => connection),
    )

  return {
    connect,
    layer: layerWith(
      { codexBin: "fake-codex", graceMs: 200, snapshotIntervalMs: 50, ...config },
      connect,
    ),
    requests,
    started: () => processes,
    answers,
  }
}
