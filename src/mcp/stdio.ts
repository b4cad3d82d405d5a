import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { ErrorCode, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { Effect } from "effect"
import { diagnose } from "./bridge.js"

/** Stdout carries the protocol alone: anything that would print there goes to stderr instead. */
export const keepStdoutForProtocol = (): void => {
  console.log = console.error
  console.info = console.error
  console.debug = console.error
  console.warn = console.error
}

/**
 * The transport's read errors: a line that is not JSON (or not JSON-RPC) gets the JSON-RPC error
 * answer with id null, where the SDK would only drop it.
 */
export const answerUnreadableLines = (error: Error): void => {
  const code =
    error instanceof SyntaxError
      ? ErrorCode.ParseError
      : "issues" in error
        ? ErrorCode.InvalidRequest
        : undefined
  if (code === undefined) return
  const message = code === ErrorCode.ParseError ? "Parse error" : "Invalid Request"
  process.stdout.write(
    `${JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } })}\n`,
  )
}

type Id = string | number

/**
 * Counts the requests read but not yet answered (at the transport, so a request still being
 * validated counts too). Call after `connect`, which installs the handlers wrapped here.
 */
export const trackRequests = (transport: StdioServerTransport) => {
  const open = new Set<Id>()
  let idle: Array<() => void> = []
  const settleIfIdle = () => {
    if (open.size > 0) return
    for (const wake of idle) wake()
    idle = []
  }
  const received = transport.onmessage
  transport.onmessage = (message: JSONRPCMessage) => {
    if ("method" in message && "id" in message) open.add(message.id)
    if ("method" in message && message.method === "notifications/cancelled") {
      const id = (message.params as { requestId?: Id } | undefined)?.requestId
      if (id !== undefined) open.delete(id)
      settleIfIdle()
    }
    received?.(message)
  }
  const send = transport.send.bind(transport)
  transport.send = async (message) => {
    await send(message)
    if (!("method" in message) && "id" in message && message.id !== null) {
      open.delete(message.id as Id)
      settleIfIdle()
    }
  }
  return {
    /** Resolves once every request read so far is answered, or after `ms`. */
    settle: (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        idle.push(() => {
          clearTimeout(timer)
          resolve()
        })
        settleIfIdle()
      }),
  }
}

/** Resolves when stdin ends, stdout breaks (the client is gone) or the connection closes. */
export const untilClosed = (onclose: (done: () => void) => void) =>
  Effect.async<void>((resume) => {
    const done = () => resume(Effect.void)
    process.stdin.once("end", done)
    process.stdin.once("close", done)
    process.stdout.once("error", done)
    onclose(done)
    return Effect.sync(() => {
      process.stdin.off("end", done)
      process.stdin.off("close", done)
    })
  })

// How long requests still in flight get to answer once the client has gone.
const SHUTDOWN_GRACE_MS = 2_000

/**
 * Serves `server` over stdin/stdout until the client goes (unreadable lines answered, `banner`
 * on stderr), then lets quick answers still go out; longer work (a `task_log` wait) is cancelled
 * by the close.
 */
export const serveOverStdio = (server: McpServer, banner: string) =>
  Effect.gen(function* () {
    server.server.onerror = (error) =>
      diagnose("issues" in error ? "ignored a message that is not JSON-RPC" : error.message)
    const transport = new StdioServerTransport()
    transport.onerror = answerUnreadableLines
    yield* Effect.promise(() => server.connect(transport))
    const requests = trackRequests(transport)
    diagnose(banner)
    yield* untilClosed((done) => {
      server.server.onclose = done
    })
    yield* Effect.promise(() => requests.settle(SHUTDOWN_GRACE_MS))
  })
