import { describe, expect, it } from "vitest"
import { prewarmStoreRoot } from "../../src/launcher/prewarm.js"

// The launcher guesses the store a `start` will use before the CLI parses anything; a wrong guess
// only wastes a worker, but the right one is what makes the start faster.
describe("prewarmStoreRoot", () => {
  const env = { CODEX_TASKS_HOME: "/env/store" }
  it("takes the last --store-root, global or the command's own, in either spelling", () => {
    expect(prewarmStoreRoot(["--store-root", "/a", "start", "p"], env, "/home")).toBe("/a")
    expect(prewarmStoreRoot(["start", "--store-root=/b", "p"], env, "/home")).toBe("/b")
    expect(prewarmStoreRoot(["--store-root", "/a", "start", "--store-root", "/b"], env, "/h")).toBe(
      "/b",
    )
  })
  it("falls back to the environment and the home directory, as the CLI does", () => {
    expect(prewarmStoreRoot(["start", "p"], env, "/home")).toBe("/env/store")
    expect(prewarmStoreRoot(["start", "p"], {}, "/home")).toBe("/home/.codex/tasks")
  })
  it("ignores what follows a literal -- (codex's own arguments)", () => {
    expect(prewarmStoreRoot(["start", "p", "--", "--store-root", "/x"], env, "/h")).toBe(
      "/env/store",
    )
  })
})
