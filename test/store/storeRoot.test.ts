import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { resolveStoreRoot } from "../../src/store/storeRootPath.js"

describe("resolveStoreRoot", () => {
  const home = "/home/u"
  it("prefers the flag, then CODEX_TASKS_HOME, then CODEX_HOME/tasks, then ~/.codex/tasks", () => {
    const env = { CODEX_TASKS_HOME: "/env/tasks", CODEX_HOME: "/codex" }
    expect(resolveStoreRoot({ flag: "/flag", env, home })).toBe("/flag")
    expect(resolveStoreRoot({ env, home })).toBe("/env/tasks")
    expect(resolveStoreRoot({ env: { CODEX_HOME: "/codex" }, home })).toBe("/codex/tasks")
    expect(resolveStoreRoot({ env: {}, home })).toBe(join(home, ".codex", "tasks"))
  })

  it("treats empty values as unset and makes relative paths absolute", () => {
    expect(resolveStoreRoot({ flag: "", env: { CODEX_TASKS_HOME: "" }, home })).toBe(
      join(home, ".codex", "tasks"),
    )
    expect(resolveStoreRoot({ flag: "rel/store", env: {}, home })).toBe(resolve("rel/store"))
  })
})
