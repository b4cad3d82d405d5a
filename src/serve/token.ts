import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { chmodSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { ensurePrivateDir, writeFileAtomic } from "../store/atomic.js"

/** The file in the store root that keeps `serve`'s token (mode 0600), so its URL survives a restart. */
export const TOKEN_FILE = "serve.token"

// 192 bits, base64url: 32 characters that need no escaping in a URL fragment or a header.
const TOKEN_BYTES = 24
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,}$/

const readToken = (path: string): string | undefined => {
  try {
    const text = readFileSync(path, "utf8").trim()
    return TOKEN_SHAPE.test(text) ? text : undefined
  } catch {
    return undefined
  }
}

/**
 * The token in the store root's `serve.token`, created (or, with `rotate`, replaced) with a new
 * random one when there is none; the file is private to its owner either way.
 */
export const loadToken = (storeRoot: string, rotate: boolean) =>
  Effect.gen(function* () {
    yield* ensurePrivateDir(storeRoot)
    const path = join(storeRoot, TOKEN_FILE)
    const kept = rotate ? undefined : readToken(path)
    if (kept !== undefined) {
      // Kept private even if someone loosened it (the store root's guard already checked the owner).
      const privateNow = yield* Effect.sync(() => {
        try {
          chmodSync(path, 0o600)
          return true
        } catch {
          return false
        }
      })
      if (privateNow) return kept
    }
    const token = randomBytes(TOKEN_BYTES).toString("base64url")
    yield* writeFileAtomic(path, `${token}\n`, { mode: 0o600 })
    return token
  })

const digest = (text: string) => createHash("sha256").update(text).digest()

/** True when `given` is the token; compared in constant time (of the digests: lengths may differ). */
export const tokenMatches = (given: string | undefined, token: string): boolean =>
  given !== undefined && timingSafeEqual(digest(given), digest(token))
