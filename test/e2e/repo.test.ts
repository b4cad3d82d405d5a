import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox, runCli, storeEntries, waitFor, waitForState } from "../support/cli.js"
import { git } from "../support/git.js"

// `start --repo URL [--repo-ref REF] --working-dir DIR`: git clone (argv only), checkout, then the
// task runs in the clone; a failed clone leaves nothing behind and starts no task.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  // A source repository with two commits; the older one is tagged `v1`.
  const source = join(sandbox.cwd, "source")
  mkdirSync(source)
  git(source, "init", "-q", "-b", "main")
  writeFileSync(join(source, "version.txt"), "one\n")
  git(source, "add", ".")
  git(source, "commit", "-qm", "one")
  git(source, "tag", "v1")
  writeFileSync(join(source, "version.txt"), "two\n")
  git(source, "commit", "-qam", "two")
  return { sandbox, source }
}

describe("start --repo", () => {
  it("clones, checks out the ref, and runs the task in the clone", async () => {
    const { sandbox, source } = await setup()
    const target = join(sandbox.cwd, "clone")
    const run = await runCli(sandbox, [
      "start",
      "--repo",
      source,
      "--repo-ref",
      "v1",
      "--working-dir",
      target,
      "REPLY:in the clone",
    ])
    assert.strictEqual(run.code, 0, run.stderr)
    const id = run.stdout.trim()
    assert.strictEqual(readFileSync(join(target, "version.txt"), "utf8"), "one\n")
    assert.strictEqual(run.stdout, `${id}\n`, "git output never reaches stdout")
    const state = await waitForState(sandbox, id, "STOPPED")
    assert.strictEqual(state.meta?.working_dir, target)
  })

  it("a clone that fails leaves no directory and no task, and says why", async () => {
    const { sandbox } = await setup()
    const target = join(sandbox.cwd, "clone")
    const run = await runCli(sandbox, [
      "start",
      "--repo",
      join(sandbox.cwd, "no-such-repo"),
      "--working-dir",
      target,
      "REPLY:x",
    ])
    assert.strictEqual(run.code, 1)
    assert.match(run.stderr, /git clone failed/)
    assert.isFalse(existsSync(target))
    assert.deepStrictEqual(storeEntries(sandbox), [], "no task was created")
  })

  it("a second start on the same --working-dir fails and leaves the first one's checkout alone", async () => {
    const { sandbox, source } = await setup()
    const target = join(sandbox.cwd, "clone")
    // The second start's git waits (after the emptiness check) until the first clone is in place:
    // the race of two starts given the same directory, made deterministic.
    const shims = join(sandbox.cwd, "shims")
    mkdirSync(shims)
    const realGit = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim()
    const waiting = join(sandbox.cwd, "second-is-cloning")
    writeFileSync(
      join(shims, "git"),
      `#!/bin/sh
if [ "$1" = clone ]; then
  : > ${waiting}
  i=0
  while [ ! -e ${target}/.git ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
fi
exec ${realGit} "$@"
`,
    )
    chmodSync(join(shims, "git"), 0o755)
    const args = ["start", "--repo", source, "--working-dir", target]
    const second = runCli(sandbox, [...args, "REPLY:second"], {
      env: { PATH: `${shims}:${process.env.PATH ?? ""}` },
    })
    await waitFor("the second start to reach git clone", () => existsSync(waiting) || undefined)
    const first = await runCli(sandbox, [...args, "DELAY:1500\nREPLY:first"])
    assert.strictEqual(first.code, 0, first.stderr)
    const lost = await second
    assert.strictEqual(lost.code, 1, lost.stdout)
    assert.match(lost.stderr, /--working-dir .*clone exists and is not empty/)
    assert.strictEqual(readFileSync(join(target, "version.txt"), "utf8"), "two\n")
    assert.strictEqual(git(target, "status", "--porcelain"), "", "the first checkout is intact")
    const id = first.stdout.trim()
    const state = await waitForState(sandbox, id, "STOPPED")
    assert.strictEqual(state.meta.last_result, "first")
    assert.deepStrictEqual(storeEntries(sandbox), [id], "the second start created no task")
    assert.deepStrictEqual(
      readdirSync(sandbox.cwd).filter((n) => n.includes("clone") && n !== "clone"),
      [],
      "no temporary clone is left beside it",
    )
  })

  it("--repo without --working-dir is a usage error", async () => {
    const { sandbox, source } = await setup()
    const run = await runCli(sandbox, ["start", "--repo", source, "REPLY:x"])
    assert.strictEqual(run.code, 2)
    assert.match(run.stderr, /--repo needs --working-dir/)
  })
})
