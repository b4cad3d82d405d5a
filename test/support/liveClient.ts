import { createRequire } from "node:module"

// A WebSocket client for the live channel in Node (Node 20 has no global WebSocket): the `ws`
// package @effect/platform-node already brings.

interface WsLike {
  on(event: "message", listener: (data: Buffer) => void): void
  on(event: "open" | "close", listener: () => void): void
  on(event: "error", listener: (e: Error) => void): void
  on(
    event: "unexpected-response",
    listener: (req: unknown, res: { statusCode: number }) => void,
  ): void
  send(text: string): void
  close(): void
  terminate(): void
}
const WebSocket = createRequire(import.meta.url)("ws") as new (
  url: string,
  options: { headers: Record<string, string> },
) => WsLike

/** A live message as the server sends it. */
export interface LiveMessage {
  readonly topic: string
  readonly seq: number
  readonly data: Record<string, unknown>
}

/** A connected live channel: what it received so far, a way to wait for more, and `send`. */
export const connectLive = (port: number, headers: Record<string, string>) =>
  new Promise<{
    readonly received: Array<LiveMessage>
    readonly send: (message: unknown) => void
    readonly until: (pred: (m: LiveMessage) => boolean, timeoutMs?: number) => Promise<LiveMessage>
    readonly close: () => void
  }>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, { headers })
    const received: Array<LiveMessage> = []
    const waiters = new Set<() => void>()
    ws.on("message", (data) => {
      received.push(JSON.parse(data.toString("utf8")) as LiveMessage)
      for (const w of waiters) w()
    })
    ws.on("error", reject)
    ws.on("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)))
    ws.on("open", () =>
      resolve({
        received,
        send: (message) => ws.send(JSON.stringify(message)),
        until: (pred, timeoutMs = 15_000) =>
          new Promise((ok, fail) => {
            const check = () => {
              const found = received.find(pred)
              if (found === undefined) return
              waiters.delete(check)
              clearTimeout(timer)
              ok(found)
            }
            const timer = setTimeout(() => {
              waiters.delete(check)
              fail(new Error(`no such live message in ${JSON.stringify(received).slice(0, 2000)}`))
            }, timeoutMs)
            waiters.add(check)
            check()
          }),
        close: () => ws.terminate(),
      }),
    )
  })
