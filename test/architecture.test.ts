import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"

// The folders of src/ depend on each other only as docs/ARCHITECTURE.md ("Dependencies") says:
// this reads every relative import (static and dynamic) and fails on any other folder edge.

const SRC = new URL("../src/", import.meta.url).pathname

/**
 * What each folder of src/ (and each top-level file, a node of its own) may import from:
 * `cli` the command line (entry, runtime, argv pre-parsing, options, commands), `launcher` the
 * CLI↔worker pipe (spawn, prewarm, request and handshake protocol, notices), `generated` tables
 * made by scripts, `index.ts` the library's exports.
 */
const ALLOWED: Record<string, ReadonlyArray<string>> = {
  cli: [
    "cluster",
    "domain",
    "exec",
    "launcher",
    "mcp",
    "processes",
    "render",
    "serve",
    "store",
    "tasks",
    "version.ts",
    "worker",
  ],
  cluster: ["domain", "exec", "launcher", "store", "tasks", "worker"],
  serve: [
    "cluster",
    "domain",
    "exec",
    "gate",
    "generated",
    "processes",
    "render",
    "store",
    "tasks",
  ],
  "index.ts": ["domain", "exec", "processes", "store", "tasks", "version.ts"],
  "version.ts": [],
  mcp: [
    "cluster",
    "domain",
    "exec",
    "gate",
    "launcher",
    "render",
    "store",
    "tasks",
    "version.ts",
    "worker",
  ],
  gate: ["domain", "exec", "launcher", "store", "tasks"],
  render: ["domain", "exec", "generated", "tasks"],
  tasks: ["domain", "exec", "git", "launcher", "processes", "store", "worker"],
  worker: ["domain", "exec", "launcher", "processes", "store"],
  launcher: ["domain", "exec", "processes", "store"],
  store: ["domain", "processes"],
  exec: ["domain", "processes"],
  git: ["domain", "processes", "store"],
  processes: ["domain"],
  generated: [],
  domain: [],
  testing: ["domain", "exec", "launcher", "processes", "store", "tasks", "worker"],
}

const files = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : []
  })

const folderOf = (path: string) => {
  const rel = relative(SRC, path)
  return rel.includes("/") ? (rel.split("/")[0] ?? rel) : rel
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g

describe("folder dependencies", () => {
  it("every import between folders of src/ is one the architecture allows", () => {
    const outside: Array<string> = []
    const seen = new Set<string>()
    for (const file of files(SRC)) {
      const from = folderOf(file)
      for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
        const to = folderOf(resolve(dirname(file), (m[1] ?? "").replace(/\.js$/, ".ts")))
        if (to === from) continue
        seen.add(`${from} -> ${to}`)
        if (!(ALLOWED[from] ?? []).includes(to)) {
          outside.push(`${relative(SRC, file)} imports ${m[1]} (${from} -> ${to})`)
        }
      }
    }
    assert.deepStrictEqual(outside, [])
    // The reader finds imports at all (a regex that matched nothing would pass the check above).
    assert.isTrue(seen.has("tasks -> store") && seen.has("cli -> tasks"))
  })

  it("the allowed folder graph has no cycle", () => {
    const visiting = new Set<string>()
    const done = new Set<string>()
    const cycle = (
      folder: string,
      path: ReadonlyArray<string>,
    ): ReadonlyArray<string> | undefined => {
      if (done.has(folder)) return undefined
      if (visiting.has(folder)) return [...path, folder]
      visiting.add(folder)
      for (const next of ALLOWED[folder] ?? []) {
        const found = cycle(next, [...path, folder])
        if (found !== undefined) return found
      }
      visiting.delete(folder)
      done.add(folder)
      return undefined
    }
    for (const folder of Object.keys(ALLOWED)) assert.isUndefined(cycle(folder, []))
  })
})
