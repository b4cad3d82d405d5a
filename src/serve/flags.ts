/**
 * `serve`'s flag checks, apart from its server: `serve --cluster` makes them before it connects
 * to the fleet (and the everyday CLI bundles carry only this much of `serve`).
 */
import { isIP } from "node:net"
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import type { ServeRequest } from "./main.js"

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"])

/** True for an address only this machine can reach. */
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)

/** Fails with a usage error for a bad --port, --host or --allowed-host (before anything listens). */
export const checkFlags = (
  r: Pick<ServeRequest, "port" | "host" | "allowRemote" | "allowedHosts">,
) =>
  Effect.gen(function* () {
    if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65_535) {
      return yield* new UsageError({ message: `--port must be 0 to 65535 (got ${r.port}).` })
    }
    if (r.host !== "localhost" && isIP(r.host) === 0) {
      return yield* new UsageError({ message: `--host ${r.host} is not an IP address.` })
    }
    if (!isLoopback(r.host) && !r.allowRemote) {
      return yield* new UsageError({
        message: `--host ${r.host} would let other machines reach the server: add --allow-remote if that is what you want.`,
      })
    }
    for (const name of r.allowedHosts) {
      if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(name)) {
        return yield* new UsageError({ message: `--allowed-host ${name} is not a host name.` })
      }
    }
  })
