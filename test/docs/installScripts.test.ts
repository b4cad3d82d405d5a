import { readFileSync } from "node:fs"
import { assert, describe, it } from "vitest"

// npm 11 runs a fresh `npm ci` quietly only when the root package.json's `allowScripts` decides
// every locked package with an install script (`hasInstallScript` in package-lock.json): `true`
// (run it) or `false` (skip it), keyed by name or name@version.

const read = (file: string) => JSON.parse(readFileSync(file, "utf8"))
const manifest = read("package.json") as { allowScripts?: Record<string, boolean> }
const lock = read("package-lock.json") as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>
}

/** The locked packages with install scripts, as `name@version`. */
const withInstallScripts = Object.entries(lock.packages)
  .filter(([path, entry]) => path !== "" && entry.hasInstallScript === true)
  .map(([path, entry]) => `${path.slice(path.lastIndexOf("node_modules/") + 13)}@${entry.version}`)

const nameOf = (key: string) =>
  key.slice(0, key.indexOf("@", 1) === -1 ? key.length : key.indexOf("@", 1))

describe("package.json allowScripts", () => {
  it("decides every locked package with an install script (a fresh npm ci warns of none)", () => {
    const policy = manifest.allowScripts ?? {}
    const undecided = withInstallScripts.filter(
      (p) => typeof policy[nameOf(p)] !== "boolean" && typeof policy[p] !== "boolean",
    )
    assert.isNotEmpty(withInstallScripts)
    assert.deepStrictEqual(undecided, [], "run `npm install-scripts approve|deny <pkg>`")
  })

  it("has no entry for a package that is not locked with an install script", () => {
    const names = new Set(withInstallScripts.map(nameOf))
    const stale = Object.keys(manifest.allowScripts ?? {}).filter((k) => !names.has(nameOf(k)))
    assert.deepStrictEqual(stale, [], "run `npm install-scripts prune`")
  })
})
