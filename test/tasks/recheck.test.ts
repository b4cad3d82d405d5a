import { assert, describe, it } from "@effect/vitest"
import { DEFAULT_RECHECK_MS, RECHECK_ENV, recheckMs } from "../../src/tasks/recheck.js"

describe("recheckMs (CODEX_TASKS_RECHECK_MS)", () => {
  it("defaults to 1 s; takes a whole number of ms, clamped to 10 ms … 24 h", () => {
    assert.strictEqual(DEFAULT_RECHECK_MS, 1_000)
    assert.strictEqual(recheckMs({}), 1_000)
    assert.strictEqual(recheckMs({ [RECHECK_ENV]: "250" }), 250)
    assert.strictEqual(recheckMs({ [RECHECK_ENV]: "3600000" }), 3_600_000)
    assert.strictEqual(recheckMs({ [RECHECK_ENV]: "1" }), 10)
    assert.strictEqual(recheckMs({ [RECHECK_ENV]: "999999999999" }), 86_400_000)
  })

  it("ignores what is not a whole number (the default applies)", () => {
    for (const bad of ["", " ", "abc", "1.5", "1e400", "-"]) {
      assert.strictEqual(recheckMs({ [RECHECK_ENV]: bad }), 1_000, JSON.stringify(bad))
    }
  })
})
