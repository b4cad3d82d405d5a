import { hostname } from "node:os"
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { UsageError } from "../../domain/exit.js"
import { printNote } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetFailure, globalsWith, withTasks } from "../runtime.js"

const DEFAULT_PORT = 34431
// A host id is a shard group and the first part of an entity id: no `/`.
const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/** `ADDR:PORT` (`[v6]:PORT`) as host and port; undefined when it is not one. */
export const parseListen = (text: string) => {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const port = Number(m?.[3])
  const host = m?.[1] ?? m?.[2]
  if (host === undefined || !(port > 0 && port < 65536)) return undefined
  return { host, port }
}

const listenProblem = (listen: { host: string } | undefined, text: string) =>
  listen === undefined
    ? `--listen wants ADDR:PORT (e.g. 10.0.0.5:34431), not '${text}'.`
    : ["0.0.0.0", "::", "*"].includes(listen.host)
      ? `--listen must name the address the other machines reach this runner at, not ${listen.host} (it is also the address the runner announces).`
      : undefined

/** `codex-tasks runner`: this machine's runner of a fleet (docs/cluster.md). */
export const runner = Command.make(
  "runner",
  {
    ...globalOptions,
    hostId: Options.text("host-id").pipe(
      Options.withDescription(
        "This machine's name in the fleet: tasks started with `start --on NAME` run here (default: the host name).",
      ),
      Options.optional,
    ),
    listen: Options.text("listen").pipe(
      Options.withDescription(
        `ADDR:PORT the other runners and clients reach this runner at (default 127.0.0.1:${DEFAULT_PORT}: this machine only). Runner traffic is not authenticated: use a private network.`,
      ),
      Options.optional,
    ),
  },
  (o) =>
    Effect.gen(function* () {
      const g = yield* globalsWith(o)
      if (g.cluster === undefined) {
        return yield* new UsageError({
          message: "runner needs the fleet's PostgreSQL: --cluster URL or CODEX_TASKS_CLUSTER.",
        })
      }
      const hostId = Option.getOrElse(o.hostId, () => hostname())
      if (!HOST_ID.test(hostId)) {
        return yield* new UsageError({
          message: `--host-id wants letters, digits, '.', '_' or '-' (at most 63, no '/'), not '${hostId}'.`,
        })
      }
      const text = Option.getOrElse(o.listen, () => `127.0.0.1:${DEFAULT_PORT}`)
      const listen = parseListen(text)
      const problem = listenProblem(listen, text)
      if (problem !== undefined || listen === undefined) {
        return yield* new UsageError({ message: problem ?? text })
      }
      const url = g.cluster
      const { runRunner } = yield* Effect.promise(() => import("../../cluster/runner.js"))
      return yield* withTasks(
        runRunner({
          url,
          hostId,
          listen,
          cwd: process.cwd(),
          onReady: (line) => printNote(line),
        }),
        o,
        { launches: true },
      ).pipe(Effect.catchAll(fleetFailure(url)))
    }),
).pipe(
  Command.withDescription(
    "Run this machine's runner of a fleet: it takes the tasks started on this host (its shard group) and runs them here, with this machine's store and CODEX_HOME. Stopping it does not stop running turns.\n\nExample: codex-tasks runner --cluster postgres://codex@db.internal/codex --host-id build-1 --listen 10.0.0.5:34431",
  ),
)
