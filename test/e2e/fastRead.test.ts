import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { readArgs } from "../../src/cli/readArgs.js"
import { buildFullTree } from "../support/fullTree.js"
import { runNode } from "../support/runNode.js"

// `ls` and `status` in their everyday forms skip @effect/cli (src/cli/readArgs.ts, dist/bin/read.cjs):
// what a user sees (stdout, stderr, exit code) must be what the full command tree gives, on the
// Rust tool's stores as on ours, with a broken task among them.
const cli = join(process.cwd(), "dist/bin/codex-tasks.js")
const reference = await buildFullTree()
afterAll(reference.remove)
const fullTree = reference.script
const FIXTURES = join(process.cwd(), "fixtures/legacy-stores")
const EXEC = { stopped: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d", died: "0199d7c4" }
const home = mkdtempSync(join(tmpdir(), "ct-fast-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const storeOf = (era: string) => {
  const root = join(home, era)
  cpSync(join(FIXTURES, era), root, { recursive: true })
  chmodSync(root, 0o700)
  return root
}
const execStore = storeOf("exec-era")
const broken = join(execStore, "0199d7c5-0000-7000-8000-00000000000b")
mkdirSync(broken)
writeFileSync(join(broken, "task.json"), "{ not json")
const flatStore = storeOf("flat-era")
const protoStore = storeOf("proto-era")

const env = {
  PATH: process.env.PATH ?? "",
  HOME: home,
  NO_COLOR: "1",
  TZ: "America/New_York",
  CODEX_TASKS_HOME: execStore,
  CODEX_TASKS_CODEX_BIN: "/nonexistent/codex",
}

const run = (script: string, args: ReadonlyArray<string>) =>
  runNode(script, args, { env, cwd: home })

const sameAsTree = async (cases: ReadonlyArray<ReadonlyArray<string>>) => {
  for (const args of cases) {
    expect(`${args.join(" ")} fast: ${readArgs(args) !== undefined}`).toBe(
      `${args.join(" ")} fast: true`,
    )
    const [fast, full] = await Promise.all([run(cli, args), run(fullTree, args)])
    expect(`${args.join(" ")}\n${fast}`).toBe(`${args.join(" ")}\n${full}`)
  }
}

describe("the fast read path", () => {
  it("ls: every accepted form prints what the command tree prints", async () => {
    // The first listing settles the store (a dead worker's task is marked DIED) for both.
    await run(fullTree, ["ls", "-a"])
    await sameAsTree([
      ["ls"],
      ["ls", "-a"],
      ["ls", "--all", "--json"],
      ["ls", "--json", "--time-format", "iso"],
      ["ls", "--time-format=iso", "-a"],
      ["ls", "--state", "died,stopped", "--state", "ARCHIVED"],
      ["ls", "--state", "nope"],
      ["ls", "--state", " , "],
      ["--store-root", flatStore, "ls", "-a"],
      ["ls", "--store-root", protoStore, "--json", "-a"],
      ["--store-root", flatStore, "ls", "--store-root", execStore],
      ["--store-root=/nonexistent/store", "ls"],
      ["ls", "--max-running", "3", "--codex-bin", "/bin/true"],
    ])
  }, 180_000)

  it("status: every accepted form prints what the command tree prints, exit codes too", async () => {
    await sameAsTree([
      ["status", "-a"],
      ["status", "--all", "--json", "--time-format", "iso"],
      ["status", "-A"],
      ["status", "--all-running", "--json"],
      ["status", EXEC.stopped],
      ["status", EXEC.stopped, "--json"],
      ["status", "--json", EXEC.stopped, EXEC.died],
      ["status", EXEC.died, "--time-format=iso"],
      ["status", "0199d7c"],
      ["status", "no-such-task"],
      ["status", "0199d7c5-0000-7000-8000-00000000000b", "--json"],
      ["status"],
      ["status", "-a", "-A"],
      ["status", "-a", "--wait", "--wait-any"],
      ["status", "-a", EXEC.stopped],
      ["status", "--wait", "--timeout", "5", EXEC.stopped],
      ["status", "--wait-any", "--timeout=5", EXEC.died, EXEC.stopped],
      ["--store-root", flatStore, "status", "-a"],
      ["status", "--store-root", protoStore, "--json", "-a"],
    ])
  }, 180_000)

  it("the launcher leaves doubtful forms to the command tree, which explains them", async () => {
    for (const args of [
      ["ls", "--json", "true"],
      ["ls", "-a", "-a"],
      ["ls", "--state=died"],
    ]) {
      expect(`${args.join(" ")} fast: ${readArgs(args) !== undefined}`).toBe(
        `${args.join(" ")} fast: false`,
      )
      expect(`${args.join(" ")}\n${await run(cli, args)}`).toBe(
        `${args.join(" ")}\n${await run(fullTree, args)}`,
      )
    }
  }, 60_000)
})
