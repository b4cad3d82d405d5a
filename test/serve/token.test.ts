import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { loadToken, TOKEN_FILE, tokenMatches } from "../../src/serve/token.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const root = () => {
  const d = mkdtempSync(join(tmpdir(), "ct-token-"))
  dirs.push(d)
  return join(d, "store")
}

describe("serve's token", () => {
  it("is made once (≥ 128 bits, 0600) and reused; rotate replaces it", async () => {
    const store = root()
    const first = await Effect.runPromise(loadToken(store, false))
    expect(Buffer.from(first, "base64url").length).toBeGreaterThanOrEqual(16)
    const file = join(store, TOKEN_FILE)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(await Effect.runPromise(loadToken(store, false))).toBe(first)
    const rotated = await Effect.runPromise(loadToken(store, true))
    expect(rotated).not.toBe(first)
    expect(readFileSync(file, "utf8").trim()).toBe(rotated)
  })

  it("tightens a loosened file and replaces one that holds no token", async () => {
    const store = root()
    const token = await Effect.runPromise(loadToken(store, false))
    const file = join(store, TOKEN_FILE)
    chmodSync(file, 0o644)
    expect(await Effect.runPromise(loadToken(store, false))).toBe(token)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    writeFileSync(file, "short\n")
    const replaced = await Effect.runPromise(loadToken(store, false))
    expect(replaced).not.toBe("short")
    expect(replaced).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })

  it("matches only the exact token", () => {
    expect(tokenMatches("abc", "abc")).toBe(true)
    for (const given of [undefined, "", "ab", "abcd", "ABC"]) {
      expect(tokenMatches(given, "abc")).toBe(false)
    }
  })
})
