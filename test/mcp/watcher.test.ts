import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { makeStoreWatcher, type StoreWatcher } from "../../src/mcp/watcher.js"

// The watcher on a plain directory: "tasks" are subdirectories, a resource's content is the file
// `data` inside its task directory, so the tests control exactly what changes.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const until = async (what: string, probe: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

const setup = async (
  options: { readonly recheckMs?: number; readonly extra?: () => string } = {},
) => {
  const root = mkdtempSync(join(tmpdir(), "ct-watch-"))
  const listChanges: Array<number> = []
  const updates: Array<string> = []
  const dirOf = (uri: string) => join(root, uri.replace("res://", ""))
  const watcher: StoreWatcher = await makeStoreWatcher({
    root,
    listIds: async () => readdirSync(root).sort(),
    dirOf: async (uri) => dirOf(uri),
    fingerprint: async (uri) => {
      let data = "missing"
      try {
        data = readFileSync(join(dirOf(uri), "data"), "utf8")
      } catch {}
      return `${data}|${options.extra?.() ?? ""}`
    },
    onListChanged: () => listChanges.push(Date.now()),
    onUpdated: (uri) => updates.push(uri),
    ...(options.recheckMs === undefined ? {} : { recheckMs: options.recheckMs }),
  })
  cleanups.push(() => {
    watcher.close()
    rmSync(root, { recursive: true, force: true })
  })
  return { root, watcher, listChanges, updates }
}

describe("makeStoreWatcher", () => {
  it("reports a burst of tasks appearing once, and their removal again", async () => {
    const { root, listChanges } = await setup()
    for (const id of ["a", "b", "c"]) mkdirSync(join(root, id))
    await until("list_changed", () => listChanges.length > 0)
    await sleep(300)
    assert.strictEqual(listChanges.length, 1, "one notification for the burst")
    rmSync(join(root, "b"), { recursive: true })
    await until("list_changed after removal", () => listChanges.length > 1)
  })

  it("does not report list changes when the ids stay the same", async () => {
    const { root, listChanges } = await setup()
    writeFileSync(join(root, ".lock"), "x")
    rmSync(join(root, ".lock"))
    mkdirSync(join(root, "a"))
    await until("list_changed", () => listChanges.length === 1)
    // a file inside an existing task directory is not a change of the list
    writeFileSync(join(root, "a", "data"), "1")
    await sleep(300)
    assert.strictEqual(listChanges.length, 1)
  })

  it("reports updates of subscribed resources only, when their content changed", async () => {
    const { root, watcher, updates } = await setup()
    mkdirSync(join(root, "a"))
    mkdirSync(join(root, "b"))
    writeFileSync(join(root, "a", "data"), "1")
    await watcher.subscribe("res://a")
    writeFileSync(join(root, "a", "data"), "2")
    writeFileSync(join(root, "b", "data"), "2")
    await until("an update of res://a", () => updates.length > 0)
    await sleep(300)
    assert.deepStrictEqual(updates, ["res://a"])
    // rewriting the same content changes no fingerprint
    writeFileSync(join(root, "a", "data"), "2")
    await sleep(300)
    assert.deepStrictEqual(updates, ["res://a"])
    watcher.unsubscribe("res://a")
    writeFileSync(join(root, "a", "data"), "3")
    await sleep(300)
    assert.deepStrictEqual(updates, ["res://a"])
  })

  it("notices changes no file event reports through the periodic re-check", async () => {
    let liveness = "alive"
    const { root, watcher, updates } = await setup({ recheckMs: 200, extra: () => liveness })
    mkdirSync(join(root, "a"))
    await watcher.subscribe("res://a")
    liveness = "dead"
    await until("an update from the re-check", () => updates.length === 1, 2_000)
  })

  it("tells nothing after close", async () => {
    const { root, watcher, updates, listChanges } = await setup({ recheckMs: 100 })
    mkdirSync(join(root, "a"))
    await watcher.subscribe("res://a")
    watcher.close()
    writeFileSync(join(root, "a", "data"), "changed")
    mkdirSync(join(root, "b"))
    await sleep(400)
    assert.deepStrictEqual(updates, [])
    assert.deepStrictEqual(listChanges, [])
  })
})

describe("makeStoreWatcher re-checks", () => {
  it("skip a final resource, and one that holds until the root changes until it does", async () => {
    const root = mkdtempSync(join(tmpdir(), "ct-watch-"))
    const asked = new Map<string, number>()
    const updates: Array<string> = []
    const watcher = await makeStoreWatcher({
      root,
      listIds: async () => readdirSync(root).sort(),
      dirOf: async () => undefined,
      fingerprint: async (uri) => {
        asked.set(uri, (asked.get(uri) ?? 0) + 1)
        if (uri === "res://archived") return { value: "a", holds: "forever" }
        if (uri === "res://missing") {
          return readdirSync(root).includes("missing")
            ? { value: "here" }
            : { value: "missing", holds: "until-root-changes" }
        }
        return { value: "live" }
      },
      onListChanged: () => {},
      onUpdated: (uri) => updates.push(uri),
      recheckMs: 20,
    })
    cleanups.push(() => {
      watcher.close()
      rmSync(root, { recursive: true, force: true })
    })
    for (const uri of ["res://archived", "res://missing", "res://live"])
      await watcher.subscribe(uri)
    await until("ten re-checks", () => (asked.get("res://live") ?? 0) > 10)
    assert.strictEqual(asked.get("res://archived"), 1)
    assert.strictEqual(asked.get("res://missing"), 1)
    assert.deepStrictEqual(updates, [])
    mkdirSync(join(root, "missing"))
    await until("the update of res://missing", () => updates.includes("res://missing"))
    assert.deepStrictEqual(updates, ["res://missing"])
    assert.strictEqual(asked.get("res://archived"), 1)
  })
})
