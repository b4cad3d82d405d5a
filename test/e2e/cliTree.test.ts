import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { COMMANDS } from "../../src/cli/route.js"
import { buildFullTree } from "../support/fullTree.js"
import { runNode } from "../support/runNode.js"

// The built CLI builds only the invoked subcommand (and loads one of three bundles): for every
// command, what a user sees (stdout, stderr, exit code) must be what the full tree gives.
const cli = join(process.cwd(), "dist/bin/codex-tasks.js")
const reference = await buildFullTree()
afterAll(reference.remove)
const fullTree = reference.script
const store = mkdtempSync(join(tmpdir(), "ct-tree-"))
afterAll(() => rmSync(store, { recursive: true, force: true }))

const env = {
  PATH: process.env.PATH ?? "",
  HOME: store,
  NO_COLOR: "1",
  CODEX_TASKS_HOME: join(store, "tasks"),
  CODEX_TASKS_CODEX_BIN: "/nonexistent/codex",
}

const run = (script: string, args: ReadonlyArray<string>) =>
  runNode(script, args, { env, cwd: store })

// Errors and help of each command: unknown flag, missing or extra arguments, a bad value, a
// global option before and after, an unknown task. (`mcp` and `serve` alone would serve; `start` would start.)
const casesOf = (cmd: string): Array<Array<string>> => [
  [cmd, "--help"],
  [cmd, "--bogus"],
  [cmd, "x", "y", "z", "w"],
  [cmd, "--store-root"],
  ["--store-root", join(store, "other"), cmd, "--bogus"],
  [cmd, "--time-format", "nope", "--json", "--json"],
  ...(cmd === "mcp" || cmd === "serve" || cmd === "start" ? [] : [[cmd], [cmd, "no-such-task"]]),
  ...(cmd === "start" ? [[cmd, "--sandbox", "nope", "hi"]] : []),
]

describe("one subcommand built instead of the tree", () => {
  for (const cmd of COMMANDS) {
    it(`${cmd}: help, errors and exit codes as with the full tree`, async () => {
      for (const args of casesOf(cmd)) {
        const [lean, full] = await Promise.all([run(cli, args), run(fullTree, args)])
        expect(`${args.join(" ")}\n${lean}`).toBe(`${args.join(" ")}\n${full}`)
      }
    }, 240_000)
  }

  it("the root: help, version, completions, an unknown command, nothing", async () => {
    const cases = [[], ["--help"], ["--version"], ["--completions", "bash"], ["lss"], ["--bogus"]]
    for (const args of cases) {
      const [lean, full] = await Promise.all([run(cli, args), run(fullTree, args)])
      expect(`${args.join(" ")}\n${lean}`).toBe(`${args.join(" ")}\n${full}`)
    }
  }, 120_000)
})
