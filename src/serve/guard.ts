/**
 * What every request passes before routing (docs/serve.md "Security"): the Host allowlist (DNS
 * rebinding), the token (session cookie or bearer), the Origin of writes and of the WebSocket
 * upgrade, and the response headers.
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Effect } from "effect"
import { errorResponse } from "./errors.js"
import { tokenMatches } from "./token.js"

/** What the guard checks requests against. */
export interface GuardConfig {
  /** The port the server listens on (part of every allowed Host). */
  readonly port: number
  /** `--allowed-host` names (with or without a port; without one, the server's port). */
  readonly allowedHosts: ReadonlyArray<string>
  readonly token: string
}

/** The `Host` values the server answers: loopback names with its port, and `--allowed-host`. */
export const allowedHostSet = (config: GuardConfig): ReadonlySet<string> => {
  const withPort = (name: string) =>
    /:\d+$/.test(name) && !name.endsWith("]") ? name : `${name}:${config.port}`
  return new Set(
    ["127.0.0.1", "localhost", "[::1]", ...config.allowedHosts].map((n) =>
      withPort(n.toLowerCase()),
    ),
  )
}

/** The name of the session cookie (per port: cookies do not tell ports apart). */
export const cookieName = (port: number) => `codex_tasks_${port}`

/** The `Set-Cookie` value that logs a page in: not readable by scripts, never sent cross-site. */
export const sessionCookie = (config: GuardConfig) =>
  `${cookieName(config.port)}=${config.token}; HttpOnly; SameSite=Strict; Path=/`

/** The paths served without the token: the page itself (no data in it) and the login. */
const PUBLIC = new Set(["/", "/index.html", "/app.js", "/board.js", "/style.css", "/session"])

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const securityHeaders = {
  "content-security-policy": CSP,
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
}

const bearerOf = (authorization: string | undefined) => {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")
  return m?.[1]
}

/** Why `request` is refused before routing (undefined: it may pass). */
export const refusalOfRequest = (
  config: GuardConfig,
  hosts: ReadonlySet<string>,
  request: {
    readonly method: string
    readonly path: string
    readonly headers: Readonly<Record<string, string | undefined>>
    readonly cookies: Readonly<Record<string, string | undefined>>
  },
) => {
  const host = (request.headers.host ?? "").toLowerCase()
  if (!hosts.has(host)) {
    return {
      status: 403,
      message: `Host ${host || "(none)"} is not one this server answers.`,
    } as const
  }
  const upgrade = (request.headers.upgrade ?? "").toLowerCase() === "websocket"
  const origin = request.headers.origin
  const writes = upgrade || !["GET", "HEAD", "OPTIONS"].includes(request.method)
  if (writes && origin !== undefined && !originAllowed(origin, hosts)) {
    return { status: 403, message: `Origin ${origin} may not use this server.` } as const
  }
  if (PUBLIC.has(request.path)) return undefined
  const given = bearerOf(request.headers.authorization) ?? request.cookies[cookieName(config.port)]
  if (!tokenMatches(given, config.token)) {
    return {
      status: 401,
      message:
        "Log in with the URL codex-tasks serve printed, or send Authorization: Bearer TOKEN.",
    } as const
  }
  return undefined
}

/** True for `http(s)://HOST` with an allowed HOST (never `null`: sandboxed and opaque origins). */
export const originAllowed = (origin: string, hosts: ReadonlySet<string>): boolean => {
  const m = /^https?:\/\/([^/]+)$/i.exec(origin)
  return m?.[1] !== undefined && hosts.has(m[1].toLowerCase())
}

/** The guard around the app: refusals answer before routing; every answer gets the headers. */
export const guard = (config: GuardConfig) => {
  const hosts = allowedHostSet(config)
  return HttpMiddleware.make((app) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = request.url.split("?")[0] ?? "/"
      const refusal = refusalOfRequest(config, hosts, {
        method: request.method,
        path,
        headers: request.headers,
        cookies: request.cookies,
      })
      const response =
        refusal === undefined
          ? yield* app.pipe(
              Effect.catchAllCause((cause) =>
                Effect.succeed(
                  Cause.isFailure(cause) && !Cause.isDie(cause)
                    ? errorResponse({ status: 404, message: `No such page: ${path}` })
                    : errorResponse({
                        status: 500,
                        message: `internal error: ${Cause.squash(cause)}`,
                      }),
                ),
              ),
            )
          : errorResponse(refusal)
      const headers = path.startsWith("/api/")
        ? { ...securityHeaders, "cache-control": "no-store" }
        : securityHeaders
      return HttpServerResponse.setHeaders(response, headers)
    }),
  )
}
