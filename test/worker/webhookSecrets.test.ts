import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { redactUrl, webhookProblem } from "../../src/domain/notify.js"
import { deliverWebhook, type PostFn, WebhookFailed } from "../../src/worker/webhook.js"

// A webhook URL may carry secrets: `user:pass@` (HTTP Basic) or a query token. They go to the
// receiver, never into the task log (the `notification` entry's message) or an error message.

const received: Array<{ url: string | undefined; headers: IncomingHttpHeaders }> = []

const withReceiver = <A, E>(use: (base: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.async<ReturnType<typeof createServer>>((resume) => {
      const server = createServer((req, res) => {
        received.push({ url: req.url, headers: req.headers })
        req.resume()
        res.writeHead(204).end()
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => use(`127.0.0.1:${(server.address() as AddressInfo).port}`),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      }),
  )

describe("webhook secrets", () => {
  it.live("user:pass@ is sent as HTTP Basic authorization (fetch refuses it in the URL)", () =>
    withReceiver((host) =>
      Effect.gen(function* () {
        received.length = 0
        const result = yield* deliverWebhook(
          `http://alice:s3cr%40t@${host}/hook?token=abcdef123456`,
          "{}",
        )
        assert.deepStrictEqual([result.ok, result.message], [true, "HTTP 204"])
        assert.strictEqual(received[0]?.url, "/hook?token=abcdef123456")
        assert.strictEqual(
          received[0]?.headers.authorization,
          `Basic ${Buffer.from("alice:s3cr@t").toString("base64")}`,
        )
      }),
    ),
  )

  it.effect("a failure that quotes the URL is logged without its password or query token", () =>
    Effect.gen(function* () {
      const url = "https://bob:hunter22@hooks.example.com/in?token=abcdef123456&x=1"
      const post: PostFn = (u) =>
        Effect.fail(new WebhookFailed({ message: `could not POST to ${u}`, final: true }))
      const result = yield* deliverWebhook(url, "{}", post)
      assert.strictEqual(
        result.message,
        "could not POST to https://***@hooks.example.com/in?token=***&x=***",
      )
    }),
  )

  it("a bad --webhook is reported without what looks like its secrets", () => {
    assert.strictEqual(
      webhookProblem("http://bob:hunter22@[bad/x?token=abc"),
      "--webhook is not a URL: http://***@[bad/x?***",
    )
    assert.strictEqual(redactUrl("https://h.example/x"), "https://h.example/x")
  })
})
