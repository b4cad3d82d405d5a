import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { deserializeMessage, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { CallToolResult, JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { type CliSandbox, cliPath } from "./cli.js"

const entryScript = fileURLToPath(new URL("./mcpEntry.mjs", import.meta.url))

/**
 * The program serving `mcp`: the built CLI once src/cli/Cli.ts lists the command, until then
 * test/support/mcpEntry.mjs (the same command module from the tsc build).
 */
export const mcpProgram = (): string => {
  if (program === undefined) {
    const help = spawnSync(process.execPath, [cliPath, "--help"], { encoding: "utf8" })
    program = /^\s*- mcp\b/m.test(help.stdout ?? "") ? cliPath : entryScript
  }
  return program
}
let program: string | undefined

/** How the server process ended. */
export interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/**
 * The SDK's stdio client transport, reimplemented over our own child so the tests see every raw
 * stdout line and can write raw (malformed) lines to the server.
 */
export class ChildTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: <T extends JSONRPCMessage>(message: T) => void
  /** Every line the server wrote to stdout, as written. */
  readonly stdoutLines: Array<string> = []
  stderr = ""
  readonly ended: Promise<Ended>
  private rest = ""

  constructor(readonly child: ChildProcess) {
    this.ended = new Promise((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    )
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => this.onData(chunk))
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk
    })
    child.stdin?.on("error", () => {})
    child.once("close", () => this.onclose?.())
  }

  private onData(chunk: string) {
    this.rest += chunk
    for (let nl = this.rest.indexOf("\n"); nl !== -1; nl = this.rest.indexOf("\n")) {
      const line = this.rest.slice(0, nl)
      this.rest = this.rest.slice(nl + 1)
      this.stdoutLines.push(line)
      try {
        this.onmessage?.(deserializeMessage(line))
      } catch (error) {
        this.onerror?.(error as Error)
      }
    }
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    this.writeRaw(serializeMessage(message))
  }

  /** Writes bytes to the server's stdin as they are. */
  writeRaw(text: string): void {
    this.child.stdin?.write(text)
  }

  /** Ends stdin (the MCP way to shut a stdio server down) and waits for the exit. */
  async close(): Promise<void> {
    this.child.stdin?.end()
    await this.ended
  }
}

/** A connected client and its server process. */
export interface McpSession {
  readonly client: Client
  readonly transport: ChildTransport
}

/** Spawns `codex-tasks mcp --store-root <store> ...flags` in the sandbox and connects a client. */
export const connectMcp = async (
  sandbox: CliSandbox,
  flags: ReadonlyArray<string> = [],
): Promise<McpSession> => {
  const child = spawn(
    process.execPath,
    [mcpProgram(), "mcp", "--store-root", sandbox.storeRoot, ...flags],
    { cwd: sandbox.cwd, env: { ...sandbox.env }, stdio: ["pipe", "pipe", "pipe"] },
  )
  const transport = new ChildTransport(child)
  const client = new Client({ name: "codex-tasks-e2e", version: "1.0.0" })
  await client.connect(transport)
  return { client, transport }
}

/** `tools/call`, typed as the plain tool result. */
export const callTool = async (
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options: Parameters<Client["callTool"]>[2] = {},
): Promise<CallToolResult> =>
  (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult

/** The text of a tool result. */
export const textOf = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === "text" ? c.text : "")).join("")

/** The structured content of a successful tool result (fails the test on an error result). */
export const structured = <T = Record<string, unknown>>(r: CallToolResult): T => {
  if (r.isError === true) throw new Error(`tool error: ${textOf(r)}`)
  return r.structuredContent as T
}
