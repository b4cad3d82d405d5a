import { Data, Duration, Effect, Ref, Schedule } from "effect"
import { redactUrlIn } from "../domain/notify.js"

/** How long a webhook is retried before it is given up. */
export const WEBHOOK_RETRY_FOR = Duration.minutes(1)
const ATTEMPT_TIMEOUT_MS = 10_000

/** One POST that did not get a 2xx answer. */
export class WebhookFailed extends Data.TaggedError("WebhookFailed")<{
  readonly message: string
  /** A 4xx answer other than 408/429: the receiver refused it, retrying will not help. */
  readonly final: boolean
}> {}

/** Sends one POST of `body` to `url`; resolves to the HTTP status. */
export type PostFn = (url: string, body: string) => Effect.Effect<number, WebhookFailed>

/**
 * `url` without its `user:pass@` (which `fetch` refuses) and the `authorization` header it stands
 * for (HTTP Basic, as curl sends it).
 */
export const splitCredentials = (
  url: string,
): { readonly url: string; readonly authorization?: string } => {
  const u = new URL(url)
  if (u.username === "" && u.password === "") return { url }
  const user = decodeURIComponent(u.username)
  const password = decodeURIComponent(u.password)
  u.username = ""
  u.password = ""
  const basic = Buffer.from(`${user}:${password}`, "utf8").toString("base64")
  return { url: u.href, authorization: `Basic ${basic}` }
}

/** A POST with `fetch`, `content-type: application/json`, 10 s per attempt. */
export const fetchPost: PostFn = (url, body) =>
  Effect.tryPromise({
    try: async () => {
      const target = splitCredentials(url)
      const res = await fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(target.authorization === undefined ? {} : { authorization: target.authorization }),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      })
      await res.body?.cancel().catch(() => undefined)
      return res.status
    },
    catch: (e) =>
      new WebhookFailed({
        message:
          e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e),
        final: false,
      }),
  })

/** How a webhook delivery ended. */
export interface WebhookResult {
  readonly ok: boolean
  readonly attempts: number
  readonly status?: number
  readonly message: string
}

const refused = (status: number) =>
  status >= 400 && status < 500 && status !== 408 && status !== 429

/**
 * POSTs `body` to `url` until a 2xx answer, retrying with exponential backoff (1 s, doubling,
 * jittered) for up to a minute; a 4xx refusal (not 408/429) ends it at once. Never fails; the
 * result's message never shows the URL's credentials or query values (`redactUrlIn`).
 */
export const deliverWebhook = (
  url: string,
  body: string,
  post: PostFn = fetchPost,
): Effect.Effect<WebhookResult> =>
  Effect.gen(function* () {
    const attempts = yield* Ref.make(0)
    const lastStatus = yield* Ref.make<number | undefined>(undefined)
    const once = Effect.gen(function* () {
      yield* Ref.update(attempts, (n) => n + 1)
      const status = yield* post(url, body)
      yield* Ref.set(lastStatus, status)
      if (status >= 200 && status < 300) return status
      return yield* new WebhookFailed({ message: `HTTP ${status}`, final: refused(status) })
    })
    const schedule = Schedule.exponential(Duration.seconds(1), 2).pipe(
      Schedule.jittered,
      Schedule.upTo(WEBHOOK_RETRY_FOR),
    )
    const exit = yield* Effect.either(Effect.retry(once, { schedule, while: (e) => !e.final }))
    const n = yield* Ref.get(attempts)
    const status = yield* Ref.get(lastStatus)
    const withStatus = status === undefined ? {} : { status }
    return exit._tag === "Right"
      ? { ok: true, attempts: n, ...withStatus, message: `HTTP ${exit.right}` }
      : // Logged in the task log: never with the URL's credentials or query tokens.
        { ok: false, attempts: n, ...withStatus, message: redactUrlIn(exit.left.message, url) }
  })
