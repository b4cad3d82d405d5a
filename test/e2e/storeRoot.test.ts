import { chmodSync, chownSync, lchownSync, mkdirSync, statSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { type CliSandbox, makeCliSandbox, runCli } from "../support/cli.js"

// The store root is checked like ssh checks ~/.ssh: owned by another user or writable by others →
// refused (exit 1, nothing read or written); owned by us but readable by others (every store the
// Rust tool made is 0755) → tightened to 0700 with one notice on stderr. The tests run as root, so
// "another user" is uid 65534.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  mkdirSync(sandbox.storeRoot, { mode: 0o700 })
  return sandbox
}

const modeOf = (path: string) => statSync(path).mode & 0o777

const refused = async (sandbox: CliSandbox, args: ReadonlyArray<string>, why: RegExp) => {
  const run = await runCli(sandbox, args)
  assert.strictEqual(run.code, 1, `${args.join(" ")}: ${run.stdout}${run.stderr}`)
  assert.match(run.stderr, why)
  assert.match(run.stderr, /^codex-tasks: The store root .* another user could replace its tasks/m)
  assert.strictEqual(run.stdout, "")
}

describe("the store root", () => {
  it("owned by another user is refused by every command that opens the store", async () => {
    const sandbox = await setup()
    chownSync(sandbox.storeRoot, 65534, 65534)
    const commands = [
      ["ls"],
      ["status", "-a"],
      ["log", "0199d7c3-0a11-7b22-8c33-4d4e5f607182"],
      ["stop", "-a"],
      ["archive", "-a"],
      ["start", "REPLY:x"],
      ["send", "0199d7c3-0a11-7b22-8c33-4d4e5f607182", "REPLY:x"],
      ["mcp"],
    ]
    for (const args of commands) {
      await refused(sandbox, args, /is owned by uid 65534/)
    }
    const doctor = await runCli(sandbox, ["doctor", "--json"])
    assert.strictEqual(doctor.code, 1)
    const store = (
      JSON.parse(doctor.stdout) as { checks: Array<{ name: string; ok: boolean }> }
    ).checks.find((c) => c.name === "store")
    assert.isFalse(store?.ok)
  })

  it("writable by the group or by everyone is refused and left as it is", async () => {
    const sandbox = await setup()
    for (const mode of [0o775, 0o777]) {
      chmodSync(sandbox.storeRoot, mode)
      await refused(sandbox, ["ls"], /is writable by (the group|others)/)
      await refused(sandbox, ["start", "REPLY:x"], /is writable by/)
      assert.strictEqual(modeOf(sandbox.storeRoot), mode)
    }
  })

  it("ours but readable by others (0755) is tightened to 0700, with one notice", async () => {
    const sandbox = await setup()
    chmodSync(sandbox.storeRoot, 0o755)
    const first = await runCli(sandbox, ["ls"])
    assert.strictEqual(first.code, 0, first.stderr)
    assert.strictEqual(
      first.stderr,
      `codex-tasks: tightened the store root ${sandbox.storeRoot} from mode 755 to 700 (only you should read your tasks)\n`,
    )
    assert.strictEqual(modeOf(sandbox.storeRoot), 0o700)
    const second = await runCli(sandbox, ["ls"])
    assert.strictEqual(second.code, 0)
    assert.strictEqual(second.stderr, "", "the notice is printed once")
    chmodSync(sandbox.storeRoot, 0o750)
    const doctor = await runCli(sandbox, ["doctor"])
    assert.match(doctor.stdout, /✓ store: .* is writable \(mode 700; tightened from 750\)/)
    assert.strictEqual(modeOf(sandbox.storeRoot), 0o700)
  })

  it("a symlink is followed: the directory it points at is what is checked", async () => {
    const sandbox = await setup()
    const real = join(sandbox.cwd, "real-store")
    mkdirSync(real, { mode: 0o777 })
    chmodSync(real, 0o777)
    const link = join(sandbox.cwd, "linked-store")
    symlinkSync(real, link)
    const env = { CODEX_TASKS_HOME: link }
    const open = await runCli(sandbox, ["ls"], { env })
    assert.strictEqual(open.code, 1)
    assert.match(open.stderr, /The store root .*linked-store .*is writable by/)
    chmodSync(real, 0o755)
    const ok = await runCli(sandbox, ["ls"], { env })
    assert.strictEqual(ok.code, 0, ok.stderr)
    assert.match(ok.stderr, /tightened the store root .*linked-store from mode 755 to 700/)
    assert.strictEqual(modeOf(real), 0o700)
    // The link itself must be ours too: whoever owns it can point it elsewhere.
    lchownSync(link, 65534, 65534)
    const theirs = await runCli(sandbox, ["ls"], { env })
    assert.strictEqual(theirs.code, 1)
    assert.match(theirs.stderr, /linked-store is a symlink owned by uid 65534/)
  })

  it("a root that does not exist yet is created 0700 by start", async () => {
    const server = await startModelServer()
    cleanups.push(() => server.close())
    const sandbox = await makeCliSandbox(server)
    cleanups.push(sandbox.dispose)
    const run = await runCli(sandbox, ["start", "--skip-git-repo-check", "--wait", "REPLY:done"])
    assert.strictEqual(run.code, 0, run.stderr)
    assert.strictEqual(modeOf(sandbox.storeRoot), 0o700)
    assert.notMatch(run.stderr, /tightened/)
  })
})
