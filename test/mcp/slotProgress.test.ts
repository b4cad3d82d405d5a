import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Extra } from "../../src/mcp/bridge.js"
import { withSlotProgress } from "../../src/mcp/startNotifications.js"

// MCP `task_start` while its first run waits for a run slot: progress notifications, only for a
// call that asked for progress, and none once the start returned.

const fakeExtra = (progressToken: string | undefined) => {
  const sent: Array<Record<string, unknown>> = []
  const extra = {
    _meta: progressToken === undefined ? undefined : { progressToken },
    sendNotification: async (n: Record<string, unknown>) => {
      sent.push(n)
    },
  } as unknown as Extra
  return { extra, sent }
}

const notice = { _tag: "Waiting", for: "slot", ahead: 3, limit: 2 } as const

describe("withSlotProgress", () => {
  it.effect("sends a progress notification as soon as the worker says it waits", () =>
    Effect.gen(function* () {
      const { extra, sent } = fakeExtra("tok-1")
      yield* withSlotProgress(extra, (onNotice) => Effect.sync(() => onNotice(notice)))
      assert.strictEqual(sent.length, 1)
      const params = sent[0]?.params as Record<string, unknown>
      assert.strictEqual(sent[0]?.method, "notifications/progress")
      assert.strictEqual(params.progressToken, "tok-1")
      assert.include(String(params.message), "waiting for a run slot (3 invocations ahead")
    }),
  )

  it.effect("sends nothing when the call has no progress token or never waits", () =>
    Effect.gen(function* () {
      const none = fakeExtra(undefined)
      yield* withSlotProgress(none.extra, (onNotice) => Effect.sync(() => onNotice(notice)))
      const idle = fakeExtra("tok-2")
      yield* withSlotProgress(idle.extra, () => Effect.void)
      assert.deepStrictEqual([none.sent.length, idle.sent.length], [0, 0])
    }),
  )
})
