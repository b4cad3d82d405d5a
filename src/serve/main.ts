/**
 * The `serve` program: checks its flags, loads the token, listens, prints the URL (the only line
 * on stdout) and serves until SIGINT/SIGTERM (a normal end: exit 0).
 */
import { realpathSync } from "node:fs"
import { ServeError } from "@effect/platform/HttpServerError"
import { Effect, type Layer } from "effect"
import { UsageError } from "../domain/exit.js"
import { resolveAllowDirs } from "../gate/confine.js"
import type { GateContext } from "../gate/gate.js"
import { runToEnd } from "../processes/child.js"
import type { TaskStore } from "../store/TaskStore.js"
import { recheckMs } from "../tasks/recheck.js"
import type { Tasks } from "../tasks/Tasks.js"
import { checkFlags, isLoopback } from "./flags.js"
import { openerCommand } from "./opener.js"
import { startServer, urlHost } from "./server.js"
import { loadToken } from "./token.js"

/** What `serve` was asked for. */
export interface ServeRequest {
  readonly storeRoot: string
  readonly host: string
  readonly port: number
  readonly open: boolean
  readonly allowRemote: boolean
  readonly allowedHosts: ReadonlyArray<string>
  readonly allowUnsafe: boolean
  readonly allowDirs: ReadonlyArray<string>
  readonly rotateToken: boolean
  readonly maxRunning: number | undefined
  /** Where the URL goes (stdout) and where diagnostics go (stderr). */
  readonly printUrl: (line: string) => Effect.Effect<void>
  readonly note: (line: string) => Effect.Effect<void>
}

const listenError = (host: string, port: number, cause: unknown) => {
  const code = (cause as { code?: unknown } | undefined)?.code
  const where = urlHost(host, port)
  if (code === "EADDRINUSE") {
    return new UsageError({
      message: `Port ${port} on ${host} is taken (another codex-tasks serve?): stop it, or pass --port N (--port 0: any free port).`,
    })
  }
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new UsageError({ message: `Cannot listen on ${where}: ${detail}` })
}

/** What a server is started with: the gate's context and the token. */
export interface ServeStart {
  readonly gate: GateContext
  readonly token: string
}

/**
 * Checks `r`'s flags, starts the server `listen` makes, prints its URL and the note that says
 * what it serves (`what`: a store, or a fleet) and under which rules, and serves until
 * interrupted (SIGINT/SIGTERM).
 */
export const serveUntilInterrupted = <E, R>(
  r: ServeRequest,
  what: { readonly name: string; readonly fleet: boolean },
  listen: (
    start: ServeStart,
  ) => Effect.Effect<
    { readonly port: number; readonly closeConnections: () => void },
    E | ServeError,
    R
  >,
) =>
  Effect.gen(function* () {
    yield* checkFlags(r)
    const cwd = realpathSync.native(process.cwd())
    const allowDirs = yield* resolveAllowDirs(cwd, r.allowDirs)
    const token = yield* loadToken(r.storeRoot, r.rotateToken)
    const { port, closeConnections } = yield* listen({
      token,
      gate: { allowUnsafe: r.allowUnsafe, cwd, roots: [cwd, ...allowDirs] },
    }).pipe(
      Effect.catchIf(
        (e): e is ServeError => e instanceof ServeError,
        (e) => Effect.fail(listenError(r.host, r.port, e.cause)),
      ),
    )
    const shownHost = r.host === "0.0.0.0" || r.host === "::" ? "127.0.0.1" : r.host
    const url = `http://${urlHost(shownHost, port)}/#token=${token}`
    yield* r.printUrl(url)
    if (!isLoopback(r.host)) {
      yield* r.note(
        `codex-tasks: warning: serving on ${r.host} (--allow-remote): anyone who can reach this machine and has the token can run agents as you.`,
      )
    }
    yield* r.note(
      `codex-tasks: serving ${what.name} on ${urlHost(r.host, port)}${r.allowUnsafe ? " (--allow-unsafe)" : what.fleet ? "; paths on the hosts refused, prompts and diffs only for tasks started here" : `; tasks confined to ${[cwd, ...allowDirs].join(", ")}`}; Ctrl-C stops.`,
    )
    if (r.open) {
      const { command, args } = openerCommand(url, process.env.BROWSER)
      yield* Effect.forkScoped(
        runToEnd(command, args, { timeoutMs: 10_000 }).pipe(
          Effect.flatMap((run) =>
            run.exitCode === 0
              ? Effect.void
              : r.note(
                  `codex-tasks: --open: ${command} ended with ${run.exitCode ?? run.signal}; open the URL yourself.`,
                ),
          ),
          Effect.catchAll(() =>
            r.note(`codex-tasks: --open: cannot run ${command}; open the URL yourself.`),
          ),
        ),
      )
    }
    // A signal interrupts this wait: every connection ends before the server closes.
    return yield* Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(closeConnections)))
  }).pipe(Effect.scoped)

/** Runs `serve` until interrupted (SIGINT/SIGTERM). */
export const runServe = (r: ServeRequest, layer: Layer.Layer<Tasks | TaskStore, unknown>) =>
  serveUntilInterrupted(r, { name: r.storeRoot, fleet: false }, ({ token, gate }) =>
    startServer({
      host: r.host,
      port: r.port,
      allowedHosts: r.allowedHosts,
      token,
      gate,
      maxRunning: r.maxRunning,
      recheckMs: recheckMs(),
    }),
  ).pipe(Effect.provide(layer))
