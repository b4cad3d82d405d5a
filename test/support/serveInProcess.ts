import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Layer, ManagedRuntime, Scope } from "effect"
import { startServer } from "../../src/serve/server.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { type Calls, FIXTURE, standInTasks } from "./mcpInProcess.js"

// `serve`'s server in-process on a free port, on a copy of the fixture store, with the MCP
// tests' stand-in task service (start/send/stop recorded, not run); requests over real HTTP.

/** The token the in-process server is started with. */
export const TOKEN = "testtoken_0123456789abcdefghijklmnop"

/** How the in-process server is set up. */
export interface ServeInProcessOptions {
  readonly allowUnsafe?: boolean
  readonly allowedHosts?: ReadonlyArray<string>
}

/** A started server: its port, what the stand-in was asked, and `close`. */
export const serveInProcess = async (options: ServeInProcessOptions = {}) => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "ct-serve-")))
  const storeRoot = join(base, "store")
  cpSync(FIXTURE, storeRoot, { recursive: true })
  const cwd = join(base, "cwd")
  mkdirSync(cwd, { recursive: true })
  const calls: Calls = { starts: [], sends: [], stops: [] }
  const runtime = ManagedRuntime.make(
    Layer.orDie(standInTasks(calls).pipe(Layer.provideMerge(TaskStore.layer(storeRoot)))),
  )
  const scope = Effect.runSync(Scope.make())
  const { port, closeConnections } = await runtime.runPromise(
    startServer({
      host: "127.0.0.1",
      port: 0,
      allowedHosts: options.allowedHosts ?? [],
      token: TOKEN,
      gate: { allowUnsafe: options.allowUnsafe === true, cwd, roots: [cwd] },
      maxRunning: 3,
      recheckMs: 500,
    }).pipe(Scope.extend(scope)),
  )
  const close = async () => {
    closeConnections()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await runtime.dispose()
    rmSync(base, { recursive: true, force: true })
  }
  return { port, calls, storeRoot, cwd, base, runtime, close }
}

/** An HTTP answer: status, headers and body text. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: string
}

/**
 * One request with exactly these headers (fetch would not let a test choose Host); a WebSocket
 * upgrade that succeeds answers status 101 (and its socket is closed at once).
 */
export const send = (
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) =>
  new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      method,
      path,
      headers,
      setHost: false,
      agent: false,
    })
    req.on("upgrade", (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: "" })
    })
    req.on("response", (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        text += chunk
      })
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      )
    })
    req.on("error", reject)
    req.end(body)
  })

/** The headers of a WebSocket upgrade request. */
export const upgradeHeaders = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
}
