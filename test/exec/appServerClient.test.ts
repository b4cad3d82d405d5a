import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import { isRetryable } from "../../src/domain/errors.js"
import { CodexExec, type ExecRequest } from "../../src/exec/CodexExec.js"
import { fakeReplyTurn, makeFakeAppServer } from "../../src/testing/AppServerFake.js"
import { makeFakeProcesses } from "../../src/testing/ProcessesFake.js"

// The app-server client (exec/appServer/AppServerLive.ts) over the scripted fake app-server:
// one warm process for many runs, thread/start vs thread/resume, errors onto the exec taxonomy.

const dir = mkdtempSync(join(tmpdir(), "as-client-"))
let n = 0
const request = (prompt: string, resumeThreadId?: string): ExecRequest => ({
  prompt,
  options: { skipGitRepoCheck: true, backend: "app-server" },
  outputLastMessage: join(dir, `last-${++n}.txt`),
  resumeThreadId,
})

const withFake = (fake: ReturnType<typeof makeFakeAppServer>) =>
  Effect.provide(
    fake.layer.pipe(
      Layer.provide(Layer.unwrapEffect(Effect.map(makeFakeProcesses(), (p) => p.layer))),
    ),
  )

/** One run to its end: the event types it printed and its result. */
const runOnce = (req: ExecRequest) =>
  Effect.scoped(
    Effect.gen(function* () {
      const run = yield* (yield* CodexExec).run(req)
      const out = yield* Stream.runCollect(run.output)
      const types = Chunk.toReadonlyArray(out).flatMap((o) =>
        o._tag === "Stdout" && o.line._tag === "Event" ? [String(o.line.event.type)] : [],
      )
      return { types, result: yield* run.result }
    }),
  )

describe("app-server client over a scripted app-server", () => {
  it.effect(
    "runs two prompts on one warm process: thread/start once, no resume, results written",
    () => {
      const fake = makeFakeAppServer({ turns: [fakeReplyTurn("first"), fakeReplyTurn("second")] })
      return Effect.gen(function* () {
        const first = request("one")
        const a = yield* runOnce(first)
        const b = yield* runOnce(request("two", "fake-thread"))

        assert.deepStrictEqual(a.types, [
          "thread.started",
          "turn.started",
          "item.completed",
          "turn.completed",
        ])
        assert.strictEqual(a.result.outcome._tag, "Completed")
        assert.strictEqual(b.result.outcome._tag, "Completed")
        assert.strictEqual(readFileSync(first.outputLastMessage, "utf8"), "first")
        assert.strictEqual(fake.started(), 1, "one process for both turns")
        assert.deepStrictEqual(
          fake.requests.map((r) => r.method),
          ["initialize", "thread/start", "turn/start", "turn/start"],
        )
      }).pipe(withFake(fake))
    },
  )

  it.effect(
    "opts out of the per-token streaming notifications at initialize, not of those it reads",
    () => {
      // Checked against the real codex 0.169: a five-word reply sent 5 item/agentMessage/delta
      // without the opt-out, none with it.
      const fake = makeFakeAppServer({ turns: [fakeReplyTurn("hi")] })
      return Effect.gen(function* () {
        yield* runOnce(request("one"))
        const init = fake.requests.find((r) => r.method === "initialize")?.params as {
          capabilities: { optOutNotificationMethods: ReadonlyArray<string> }
        }
        const optedOut = init.capabilities.optOutNotificationMethods
        assert.includeMembers(
          [...optedOut],
          [
            "item/agentMessage/delta",
            "item/reasoning/textDelta",
            "item/commandExecution/outputDelta",
          ],
        )
        for (const read of [
          "turn/started",
          "turn/completed",
          "item/started",
          "item/completed",
          "thread/tokenUsage/updated",
          "account/rateLimits/updated",
          "error",
          "warning",
        ]) {
          assert.notInclude([...optedOut], read)
        }
      }).pipe(withFake(fake))
    },
  )

  it.effect("resumes a thread that ran elsewhere with thread/resume before the turn", () => {
    const fake = makeFakeAppServer()
    return Effect.gen(function* () {
      const a = yield* runOnce(request("later", "exec-thread"))
      assert.strictEqual(a.result.outcome._tag, "Completed")
      if (a.result.outcome._tag === "Completed")
        assert.strictEqual(a.result.outcome.threadId, "exec-thread")
      assert.deepStrictEqual(
        fake.requests.map((r) => r.method),
        ["initialize", "thread/resume", "turn/start"],
      )
    }).pipe(withFake(fake))
  })

  it.effect(
    "an overloaded server (-32001) is a retryable failure; the next attempt goes through",
    () => {
      const fake = makeFakeAppServer({
        failures: {
          "turn/start": { code: -32001, message: "Server overloaded; retry later.", times: 1 },
        },
      })
      return Effect.gen(function* () {
        const a = yield* runOnce(request("busy"))
        assert.strictEqual(a.result.outcome._tag, "Failed")
        if (a.result.outcome._tag === "Failed") {
          assert.strictEqual(a.result.outcome.error._tag, "TransientFailure")
          assert.isTrue(isRetryable(a.result.outcome.error))
        }
        const b = yield* runOnce(request("again", "fake-thread"))
        assert.strictEqual(b.result.outcome._tag, "Completed")
      }).pipe(withFake(fake))
    },
  )

  it.effect("an unknown thread on resume is UnknownThread (fatal), not a new thread", () => {
    const fake = makeFakeAppServer({
      failures: { "thread/resume": { code: -32600, message: "no rollout found for thread id x" } },
    })
    return Effect.gen(function* () {
      const a = yield* runOnce(request("gone", "x"))
      assert.strictEqual(a.result.outcome._tag, "Failed")
      if (a.result.outcome._tag === "Failed")
        assert.strictEqual(a.result.outcome.error._tag, "UnknownThread")
      assert.notInclude(
        fake.requests.map((r) => r.method),
        "turn/start",
      )
    }).pipe(withFake(fake))
  })

  it.effect("a crash mid-turn fails the run; the next run starts a new process and resumes", () => {
    const fake = makeFakeAppServer({
      turns: [[{ method: "turn/started" }, { crash: true }], fakeReplyTurn("back")],
    })
    return Effect.gen(function* () {
      const a = yield* runOnce(request("dies"))
      assert.strictEqual(a.result.outcome._tag, "Failed")
      if (a.result.outcome._tag === "Failed") {
        assert.strictEqual(a.result.outcome.error._tag, "KilledBySignal")
        assert.strictEqual(a.result.outcome.threadId, "fake-thread")
      }
      const b = yield* runOnce(request("after", "fake-thread"))
      assert.strictEqual(b.result.outcome._tag, "Completed")
      assert.strictEqual(fake.started(), 2)
      assert.deepStrictEqual(
        fake.requests.filter((r) => r.process === 2).map((r) => r.method),
        ["initialize", "thread/resume", "turn/start"],
      )
    }).pipe(withFake(fake))
  })

  it.live(
    "interrupt sends turn/interrupt; the turn ends Interrupted and the process stays warm",
    () => {
      const fake = makeFakeAppServer({
        turns: [[{ method: "turn/started" }, { hang: true }], fakeReplyTurn("next")],
      })
      return Effect.gen(function* () {
        const exec = yield* CodexExec
        const interrupted = yield* Effect.scoped(
          Effect.gen(function* () {
            const run = yield* exec.run(request("hangs"))
            const drained = yield* Effect.fork(Stream.runDrain(run.output))
            yield* Effect.sleep("20 millis")
            yield* run.interrupt
            yield* Fiber.join(drained)
            return yield* run.result
          }),
        )
        assert.strictEqual(interrupted.outcome._tag, "Interrupted")
        const b = yield* runOnce(request("next", "fake-thread"))
        assert.strictEqual(b.result.outcome._tag, "Completed")
        assert.strictEqual(fake.started(), 1)
        assert.include(
          fake.requests.map((r) => r.method),
          "turn/interrupt",
        )
      }).pipe(withFake(fake))
    },
    10_000,
  )

  it.effect(
    "a used-up rate-limit window reported mid-turn reaches onUsageLimitReset with its reset",
    () => {
      const limits = (usedPercent: number, resetsAt: number) => ({
        method: "account/rateLimits/updated",
        params: { rateLimits: { primary: { usedPercent, resetsAt }, secondary: null } },
      })
      const fake = makeFakeAppServer({
        turns: [[limits(40, 1_800_000_000), limits(100, 1_900_000_000), ...fakeReplyTurn("ok")]],
      })
      return Effect.gen(function* () {
        const resets: Array<number> = []
        const a = yield* runOnce({
          ...request("limits"),
          onUsageLimitReset: (ms) => Effect.sync(() => resets.push(ms)),
        })
        assert.strictEqual(a.result.outcome._tag, "Completed")
        assert.deepStrictEqual(resets, [1_900_000_000_000])
        assert.notInclude(
          a.types,
          "app_server.account/rateLimits/updated",
          "not logged as an event",
        )
      }).pipe(withFake(fake))
    },
  )

  it.live(
    "a turn that only reconnects is stopped (retryable ReconnectLoop), as exec's client does",
    () => {
      const reconnecting = {
        method: "error",
        params: {
          error: { message: "Reconnecting... waiting for network", codexErrorInfo: null },
          willRetry: true,
        },
      }
      const fake = makeFakeAppServer(
        { turns: [[{ method: "turn/started" }, reconnecting, reconnecting, { hang: true }]] },
        { reconnectTimeoutMs: 300 },
      )
      return Effect.gen(function* () {
        const a = yield* runOnce(request("offline"))
        assert.strictEqual(a.result.outcome._tag, "Failed")
        if (a.result.outcome._tag === "Failed") {
          assert.strictEqual(a.result.outcome.error._tag, "ReconnectLoop")
          assert.isTrue(isRetryable(a.result.outcome.error))
        }
        assert.include(
          fake.requests.map((r) => r.method),
          "turn/interrupt",
        )
      }).pipe(withFake(fake))
    },
    10_000,
  )

  it.effect(
    "codex's permission, input and elicitation requests reach onApproval; each answer has its method's shape",
    () => {
      const ask = (request: string, params: Record<string, unknown>) => ({ request, params })
      const fake = makeFakeAppServer({
        turns: [
          [
            { method: "turn/started", params: {} },
            ask("item/permissions/requestApproval", {
              itemId: "p1",
              cwd: "/w",
              reason: "to fetch",
              permissions: { network: { enabled: true }, fileSystem: null },
            }),
            ask("item/tool/requestUserInput", {
              itemId: "q1",
              questions: [
                {
                  id: "colour",
                  header: "Colour",
                  question: "Which colour?",
                  isOther: false,
                  isSecret: false,
                  options: [
                    { label: "Red", description: "" },
                    { label: "Blue", description: "" },
                  ],
                },
                { id: "when", header: "When", question: "By when?", isOther: true, options: null },
              ],
            }),
            ask("mcpServer/elicitation/request", {
              serverName: "tickets",
              mode: "form",
              message: "File a ticket",
              requestedSchema: {
                type: "object",
                properties: {
                  title: { type: "string", description: "Ticket title" },
                  urgent: { type: "boolean", title: "Urgent" },
                  points: { type: "integer", title: "Points" },
                },
              },
            }),
            ask("item/permissions/requestApproval", {
              itemId: "p2",
              permissions: { network: null, fileSystem: { read: null, write: ["/srv"] } },
            }),
            ask("item/tool/call", { tool: "mine", arguments: {} }),
            ...fakeReplyTurn("done").slice(1),
          ],
        ],
      })
      const asked: Array<unknown> = []
      const replies = [
        { decision: "accept" as const },
        { decision: "accept" as const, answers: ["Blue", "Friday"] },
        { decision: "accept" as const, answers: ["Printer on fire", "yes", "3"] },
        { decision: "decline" as const },
      ]
      return Effect.gen(function* () {
        const req: ExecRequest = {
          ...request("ask"),
          onApproval: (r) =>
            Effect.sync(() => {
              asked.push(r)
              return replies[asked.length - 1] ?? { decision: "decline" }
            }),
        }
        const { result } = yield* runOnce(req)

        assert.strictEqual(result.outcome._tag, "Completed")
        assert.deepInclude(asked[0] as object, {
          kind: "permission",
          permissions: ["network"],
          reason: "to fetch",
        })
        assert.deepInclude(asked[1] as object, {
          kind: "input",
          questions: [
            {
              id: "colour",
              question: "Which colour?",
              header: "Colour",
              options: ["Red", "Blue"],
              other: false,
            },
            { id: "when", question: "By when?", header: "When", options: undefined, other: true },
          ],
        })
        assert.deepInclude(asked[2] as object, { kind: "input", server: "tickets" })
        assert.deepStrictEqual(
          (asked[2] as { questions: ReadonlyArray<{ question: string }> }).questions.map(
            (q) => q.question,
          ),
          ["Ticket title", "Urgent", "Points"],
        )
        assert.deepInclude(asked[3] as object, { kind: "permission", permissions: ["write /srv"] })
        assert.strictEqual(asked.length, 4, "item/tool/call is not asked of anyone")
        assert.deepStrictEqual(fake.answers, [
          {
            method: "item/permissions/requestApproval",
            result: { permissions: { network: { enabled: true } }, scope: "turn" },
          },
          {
            method: "item/tool/requestUserInput",
            result: { answers: { colour: { answers: ["Blue"] }, when: { answers: ["Friday"] } } },
          },
          {
            method: "mcpServer/elicitation/request",
            result: {
              action: "accept",
              content: { title: "Printer on fire", urgent: true, points: 3 },
              _meta: null,
            },
          },
          {
            method: "item/permissions/requestApproval",
            result: { permissions: {}, scope: "turn" },
          },
          {
            method: "item/tool/call",
            error: {
              code: -32601,
              message:
                "codex-tasks does not serve item/tool/call; it answers approval and input requests only",
            },
          },
        ])
      }).pipe(withFake(fake))
    },
  )

  it.effect(
    "without onApproval (--approvals never) every kind is declined in its own shape",
    () => {
      const ask = (request: string, params: Record<string, unknown>) => ({ request, params })
      const fake = makeFakeAppServer({
        turns: [
          [
            { method: "turn/started", params: {} },
            ask("item/commandExecution/requestApproval", { itemId: "c", command: "rm -rf /" }),
            ask("item/tool/requestUserInput", {
              itemId: "q",
              questions: [{ id: "x", question: "?", options: null }],
            }),
            ask("mcpServer/elicitation/request", {
              serverName: "s",
              mode: "url",
              url: "https://x",
            }),
            ask("item/permissions/requestApproval", {
              permissions: { network: { enabled: true } },
            }),
            ...fakeReplyTurn("done").slice(1),
          ],
        ],
      })
      return Effect.gen(function* () {
        const { result } = yield* runOnce(request("never"))
        assert.strictEqual(result.outcome._tag, "Completed")
        assert.deepStrictEqual(
          fake.answers.map((a) => a.result),
          [
            { decision: "decline" },
            { answers: {} },
            { action: "decline", content: null, _meta: null },
            { permissions: {}, scope: "turn" },
          ],
        )
      }).pipe(withFake(fake))
    },
  )
})
