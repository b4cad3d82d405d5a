import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  readUsageLimit,
  recordUsageLimit,
  USAGE_LIMIT_FILE,
  type UsageIdentity,
} from "../../src/store/usageLimit.js"
import { usageIdentityOf } from "../../src/worker/usageIdentity.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-usage-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const HOUR = 3_600_000
const NOW = Date.parse("2026-12-07T12:00:00Z")
const me: UsageIdentity = { codexHome: "/home/u/.codex", account: "a1" }

const write = (root: string, record: Record<string, unknown>) =>
  Effect.promise(() => writeFile(join(root, USAGE_LIMIT_FILE), JSON.stringify(record)))

const iso = (ms: number) => new Date(ms).toISOString()

describe("store usage-limit record", () => {
  it.scopedLive("concurrent writers keep the latest reset, whatever order they write in", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const resets = [3, 7, 1, 5, 2, 6, 4].map((h) => NOW + h * HOUR)
      yield* Effect.all(
        resets.map((r) => recordUsageLimit(root, me, r, NOW, "t")),
        { concurrency: "unbounded" },
      )
      assert.strictEqual(yield* readUsageLimit(root, me, NOW), NOW + 7 * HOUR)
      // An earlier reset learned later does not replace it either.
      yield* recordUsageLimit(root, me, NOW + HOUR, NOW + 60_000, "t")
      assert.strictEqual(yield* readUsageLimit(root, me, NOW), NOW + 7 * HOUR)
    }),
  )

  it.scoped("a record of another CODEX_HOME or account, or without one, is not trusted", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* recordUsageLimit(root, me, NOW + HOUR, NOW, "t")
      assert.strictEqual(yield* readUsageLimit(root, me, NOW), NOW + HOUR)
      assert.isUndefined(yield* readUsageLimit(root, { ...me, codexHome: "/other" }, NOW))
      assert.isUndefined(yield* readUsageLimit(root, { ...me, account: "a2" }, NOW))
      assert.isUndefined(yield* readUsageLimit(root, { codexHome: me.codexHome }, NOW))
      // An older version's record names no account.
      yield* write(root, { until: iso(NOW + HOUR), recorded_at: iso(NOW) })
      assert.isUndefined(yield* readUsageLimit(root, me, NOW))
      // Another account's record is replaced by ours, even with an earlier reset.
      yield* write(root, {
        until: iso(NOW + 5 * HOUR),
        recorded_at: iso(NOW),
        codex_home: "/other",
      })
      yield* recordUsageLimit(root, me, NOW + HOUR, NOW, "t")
      assert.strictEqual(yield* readUsageLimit(root, me, NOW), NOW + HOUR)
    }),
  )

  it.scoped("a record written in the future or naming a reset beyond a week is not trusted", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const mine = { codex_home: me.codexHome, account: me.account }
      yield* write(root, { until: iso(NOW + 2 * HOUR), recorded_at: iso(NOW + HOUR), ...mine })
      assert.isUndefined(yield* readUsageLimit(root, me, NOW), "recorded an hour from now")
      yield* write(root, { until: iso(NOW + 30 * 24 * HOUR), recorded_at: iso(NOW), ...mine })
      assert.isUndefined(yield* readUsageLimit(root, me, NOW), "a reset 30 days away")
      yield* write(root, { until: iso(NOW + 7 * 24 * HOUR), recorded_at: iso(NOW), ...mine })
      assert.strictEqual(yield* readUsageLimit(root, me, NOW), NOW + 7 * 24 * HOUR, "a week")
      // Nor is such a reset recorded.
      yield* recordUsageLimit(root, me, NOW + 30 * 24 * HOUR, NOW, "t")
      assert.strictEqual(yield* readUsageLimit(root, me, NOW), NOW + 7 * 24 * HOUR)
    }),
  )

  it.scoped("the identity is the codex home and a hash of auth.json's account id", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const options = { configFile: join(home, "config.toml") }
      assert.deepStrictEqual(yield* usageIdentityOf(options, {}), { codexHome: home })
      yield* Effect.promise(() =>
        writeFile(
          join(home, "auth.json"),
          JSON.stringify({ tokens: { account_id: "acct-1", access_token: "secret" } }),
        ),
      )
      const who = yield* usageIdentityOf(options, {})
      assert.strictEqual(who.codexHome, home)
      assert.match(who.account ?? "", /^[0-9a-f]{16}$/)
      const root = yield* tempDir
      yield* recordUsageLimit(root, who, NOW + HOUR, NOW, "t")
      const text = yield* Effect.promise(() => readFile(join(root, USAGE_LIMIT_FILE), "utf8"))
      assert.notInclude(text, "acct-1")
      assert.notInclude(text, "secret")
      assert.deepStrictEqual(yield* usageIdentityOf({}, { CODEX_HOME: home }), who)
    }),
  )
})
