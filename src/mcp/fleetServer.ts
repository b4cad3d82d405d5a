/**
 * `codex-tasks --cluster URL mcp`: the MCP server over the whole fleet (fleetTools.ts), on the
 * fleet client's services (cli/fleet.ts `onFleet` provides them). Loaded from cluster.cjs only.
 */
import { realpathSync } from "node:fs"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Cause, Effect, Exit, Option, Runtime } from "effect"
import { redactUrlIn } from "../domain/notify.js"
import { checkAllowRepos, resolveAllowDirs } from "../gate/confine.js"
import { VERSION } from "../version.js"
import { diagnose, resultOf, toolError } from "./bridge.js"
import { type FleetServices, registerFleetTools } from "./fleetTools.js"
import { keepStdoutForProtocol, serveOverStdio } from "./stdio.js"

const INSTRUCTIONS = `codex-tasks runs Codex agent sessions ("tasks") in the background, here on a fleet of hosts.
task_start starts one (on host, else the least busy one) and returns its id and host at once;
follow it with task_status or task_log; task_send adds prompts; task_list shows every host's
tasks; task_stop and task_archive end and file it away.`

/** Options of `serveFleetStdio`: the fleet's URL (for redaction) and the gate's flags. */
export interface FleetServeOptions {
  readonly url: string
  readonly allowUnsafe: boolean
  readonly allowDirs: ReadonlyArray<string>
  readonly allowRepos: ReadonlyArray<string>
}

/** Serves the fleet's tools over stdio until stdin ends (or the fiber is interrupted). */
export const serveFleetStdio = (options: FleetServeOptions) =>
  Effect.gen(function* () {
    const cwd = realpathSync.native(process.cwd())
    const allowDirs = yield* resolveAllowDirs(cwd, options.allowDirs)
    const allowRepos = yield* checkAllowRepos(cwd, options.allowRepos)
    keepStdoutForProtocol()
    const runtime = yield* Effect.runtime<FleetServices>()
    const runPromiseExit = Runtime.runPromiseExit(runtime)
    const server = new McpServer(
      { name: "codex-tasks", version: VERSION },
      { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
    )
    registerFleetTools(server, {
      allowUnsafe: options.allowUnsafe,
      cwd,
      roots: [cwd, ...allowDirs],
      allowRepos,
      startedHere: new Set(),
      run: (program, signal) =>
        runPromiseExit(program, { signal }).then((exit) => {
          if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return resultOf(exit)
          // Whatever a failure says, the URL's password is not in it.
          const failure = Cause.failureOption(exit.cause)
          if (Option.isSome(failure)) {
            return toolError(redactUrlIn(messageOf(failure.value), options.url))
          }
          diagnose(redactUrlIn(`internal error: ${Cause.pretty(exit.cause)}`, options.url))
          return toolError(
            redactUrlIn(`internal error: ${messageOf(Cause.squash(exit.cause))}`, options.url),
          )
        }),
    })
    yield* Effect.addFinalizer(() => Effect.promise(() => server.close().catch(() => undefined)))
    yield* serveOverStdio(
      server,
      `serving the fleet${options.allowUnsafe ? " (--allow-unsafe)" : ""}`,
    )
  }).pipe(Effect.scoped)

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
    ? e.message
    : String(e)
