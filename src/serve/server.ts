/**
 * `codex-tasks serve`'s server: the page, the JSON API (api.ts) and the live channel (live.ts)
 * behind the guard (guard.ts), on @effect/platform's HTTP server for Node.
 */
import { createServer } from "node:http"
import type { Duplex } from "node:stream"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Schema } from "effect"
import type { GateContext } from "../gate/gate.js"
import { PAGE_FILES } from "../generated/servePage.js"
import { TaskStore } from "../store/TaskStore.js"
import { apiRouter } from "./api.js"
import { keepFresh, makeBoard } from "./board.js"
import { errorResponse } from "./errors.js"
import { guard, sessionCookie } from "./guard.js"
import { followStoreLog, type LiveContext, liveSocket } from "./live.js"
import { tokenMatches } from "./token.js"

/** How `serve` listens and what it allows. */
export interface ServerOptions {
  readonly host: string
  /** 0: a free port. */
  readonly port: number
  readonly allowedHosts: ReadonlyArray<string>
  readonly token: string
  readonly gate: GateContext
  readonly maxRunning: number | undefined
  /** How often the board re-reads the store without a file event (ms). */
  readonly recheckMs: number
}

const SessionBody = Schema.Struct({ token: Schema.String })

const pageFile = (name: string) => {
  const file = PAGE_FILES[name]
  if (file === undefined) return errorResponse({ status: 404, message: `No such page: ${name}` })
  return HttpServerResponse.text(file.body, { contentType: file.type })
}

/** The URL of the page on `host:port` (IPv6 in brackets). */
export const urlHost = (host: string, port: number) =>
  `${host.includes(":") ? `[${host}]` : host}:${port}`

/** What a server serves: its API routes and its live channel (local store or fleet). */
export interface ServerParts<R> {
  readonly api: HttpRouter.HttpRouter<unknown, R>
  readonly live: Omit<LiveContext<R>, "epoch">
}

/**
 * Listens and serves `parts` until the scope closes; the port it listens on, and how to end
 * every connection. Fails with `ServeError` when it cannot listen (the port is taken).
 */
export const listenAndServe = <R>(
  options: Omit<ServerOptions, "gate" | "recheckMs">,
  parts: ServerParts<R>,
) =>
  Effect.gen(function* () {
    const http = createServer()
    const server = yield* NodeHttpServer.make(() => http, {
      host: options.host,
      port: options.port,
    })
    const upgraded = new Set<Duplex>()
    http.on("upgrade", (_request, socket: Duplex) => {
      upgraded.add(socket)
      socket.once("close", () => upgraded.delete(socket))
    })
    const port = server.address._tag === "TcpAddress" ? server.address.port : options.port
    const config = { port, allowedHosts: options.allowedHosts, token: options.token }
    const live = { ...parts.live, epoch: Math.random().toString(36).slice(2) }
    const session = Effect.gen(function* () {
      const body = yield* HttpServerRequest.schemaBodyJson(SessionBody).pipe(Effect.option)
      if (body._tag === "None" || !tokenMatches(body.value.token, options.token)) {
        return errorResponse({ status: 401, message: "That is not this server's token." })
      }
      return HttpServerResponse.unsafeJson(
        { ok: true },
        { headers: { "set-cookie": sessionCookie(config) } },
      )
    })
    const app = parts.api.pipe(
      HttpRouter.get("/live", liveSocket(live)),
      HttpRouter.post("/session", session),
      HttpRouter.get(
        "/",
        Effect.sync(() => pageFile("index.html")),
      ),
      HttpRouter.get(
        "/:file",
        Effect.map(HttpRouter.params, (p) => pageFile(p.file ?? "")),
      ),
    )
    // Applied to the app itself, not as middleware: a middleware sees the response after it is sent.
    yield* server.serve(guard(config)(app))
    return {
      port,
      /**
       * Ends every connection at once; call it before the scope closes (the WebSocket server's
       * own close waits for its pages to leave, and a keep-alive connection holds the server's).
       */
      closeConnections: () => {
        for (const socket of upgraded) socket.destroy()
        http.closeAllConnections()
      },
    }
  })

/** `serve` of this machine's store: its board kept fresh from the store, the local API. */
export const startServer = (options: ServerOptions) =>
  Effect.gen(function* () {
    const board = yield* makeBoard
    const store = yield* TaskStore
    // The first page gets a snapshot of the store, not of nothing.
    yield* board.refresh.pipe(Effect.ignore)
    yield* Effect.forkScoped(keepFresh(board, store.root, options.recheckMs))
    return yield* listenAndServe(options, {
      api: apiRouter(options.gate),
      live: { board, maxRunning: options.maxRunning, fleet: false, followLog: followStoreLog },
    })
  })
