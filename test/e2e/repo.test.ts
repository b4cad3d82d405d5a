import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox, runCli, storeEntries, waitForState } from "../support/cli.js"

// `start --repo URL [--repo-ref REF] --working-dir DIR`: git clone (argv only), checkout, then the
// task runs in the clone; a failed clone leaves nothing behind and starts no task.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const git = (cwd: string, ...args: Array<string>) => {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t",
    },
  })
  assert.strictEqual(r.status, 0, r.stderr)
  return r.stdout.trim()
}

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

  it("--repo without --working-dir is a usage error", async () => {
    const { sandbox, source } = await setup()
    const run = await runCli(sandbox, ["start", "--repo", source, "REPLY:x"])
    assert.strictEqual(run.code, 2)
    assert.match(run.stderr, /--repo needs --working-dir/)
  })
})
