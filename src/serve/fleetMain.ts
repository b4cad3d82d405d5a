/**
 * `codex-tasks --cluster URL serve`: the dashboard over the whole fleet, from any machine that
 * reaches its PostgreSQL and runners. The local server (server.ts, guard.ts, the page) with the
 * fleet's API (fleetApi.ts) and live feeds (fleetBoard.ts) on cluster/client.ts. Loaded from
 * fleet-mcp.cjs only (the fleet's servers; scripts/build.mjs).
 */
import { Effect } from "effect"
import {
  answerOn,
  archiveOn,
  archiveReportOf,
  changesOf,
  listFleet,
  logChunkOf,
  pickHost,
  resolveTask,
  sendTo,
  startOn,
  statusOf,
  stopOn,
  warmEngine,
} from "../cluster/client.js"
import { redactUrlIn } from "../domain/notify.js"
import { type FleetOps, fleetApiRouter } from "./fleetApi.js"
import { FLEET_POLL_MS, followFleetLog, makeFleetBoard } from "./fleetBoard.js"
import { type ServeRequest, serveUntilInterrupted } from "./main.js"
import { listenAndServe } from "./server.js"

/**
 * The fleet operations on the engine's client and the fleet's Postgres (the context's); with
 * `maxRunning` (`serve --max-running N`), the runs its starts and prompts launch share N slots
 * across the fleet, as those of `start` and `send --cluster --max-running N` do.
 */
const liveFleetOps = (maxRunning: number | undefined) =>
  Effect.map(
    Effect.context<Effect.Effect.Context<ReturnType<typeof listFleet> | typeof warmEngine>>(),
    (context): FleetOps => {
      const on = <A, E>(
        effect: Effect.Effect<
          A,
          E,
          Effect.Effect.Context<ReturnType<typeof listFleet> | typeof warmEngine>
        >,
      ) => Effect.provide(effect, context)
      return {
        list: () => on(listFleet(true)),
        resolve: (ref) => on(resolveTask(ref)),
        status: (task) => on(statusOf(task)),
        start: (host, request) =>
          on(
            Effect.flatMap(
              Effect.all([pickHost(host), warmEngine], { concurrency: 2 }),
              ([picked]) =>
                startOn(
                  picked,
                  maxRunning === undefined ? request : { ...request, fleetMaxRunning: maxRunning },
                ),
            ),
          ),
        send: (task, prompt) => on(sendTo(task, prompt, undefined, maxRunning)),
        stop: (task, timeoutMs) => on(stopOn(task, false, timeoutMs)),
        archive: (task) => on(Effect.map(archiveOn(task), (r) => archiveReportOf(task, r))),
        diff: (task) => on(Effect.map(changesOf(task, false, true), (c) => c.diff)),
        logChunk: (task, offset, waitMs, lastLines) =>
          on(logChunkOf(task, offset, waitMs, lastLines)),
        answer: (task, given) => on(answerOn(task, given)),
      }
    },
  )

/** Runs `serve --cluster` (the fleet at `url`) until interrupted (SIGINT/SIGTERM). */
export const runFleetServe = (r: ServeRequest & { readonly url: string }) =>
  Effect.gen(function* () {
    const ops = yield* liveFleetOps(r.maxRunning)
    const redact = (text: string) => redactUrlIn(text, r.url)
    const board = makeFleetBoard(ops)
    return yield* serveUntilInterrupted(r, { name: "the fleet", fleet: true }, ({ token, gate }) =>
      Effect.gen(function* () {
        // The first page gets the fleet's tasks; a fleet that cannot be read is refused now.
        yield* board.refresh
        yield* Effect.forkScoped(board.keepFresh(FLEET_POLL_MS))
        return yield* listenAndServe(
          {
            host: r.host,
            port: r.port,
            allowedHosts: r.allowedHosts,
            token,
            maxRunning: r.maxRunning,
          },
          {
            api: fleetApiRouter(ops, { ...gate, startedHere: new Set(), redact }),
            live: {
              board: board.feed,
              maxRunning: r.maxRunning,
              fleet: true,
              followLog: followFleetLog(ops, redact),
            },
          },
        )
      }),
    )
  })
