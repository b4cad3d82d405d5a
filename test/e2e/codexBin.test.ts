import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox, runCli, storeEntries } from "../support/cli.js"
import { codexBin as realCodex } from "../support/modelServerCodex.js"

// `--codex-bin` / CODEX_TASKS_CODEX_BIN name a file as the CLI sees it: a relative path from the
// directory the CLI runs in, a bare name from the absolute entries of PATH. The task's working
// directory (maybe a cloned repository) never chooses the binary, although codex runs there.

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const script = (path: string, body: string) => {
  mkdirSync(join(path, ".."), { recursive: true })
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
}

/** The CLI's directory has tools/codex (the real codex); the task's has its own tools/codex. */
const setup = async () => {
  const server = await startModelServer()
  cleanups.push(() => server.close())
  const sandbox = await makeCliSandbox(server)
  cleanups.push(sandbox.dispose)
  const ran = (who: string) => join(sandbox.cwd, `${who}-ran`)
  script(join(sandbox.cwd, "tools", "codex"), `echo x >> ${ran("ours")}\nexec ${realCodex} "$@"`)
  const project = join(sandbox.cwd, "project")
  for (const name of ["codex", "codex-in-repo"]) {
    script(join(project, "tools", name), `echo x >> ${ran("repo")}\nexit 1`)
  }
  return { sandbox, project, ran }
}

describe("--codex-bin", () => {
  it("a relative path is the CLI's file, not the one in the task's working directory", async () => {
    const { sandbox, ran } = await setup()
    const args = ["--skip-git-repo-check", "--working-dir", "project", "--wait"]
    const flag = await runCli(sandbox, ["start", ...args, "--codex-bin", "tools/codex", "REPLY:a"])
    assert.strictEqual(flag.code, 0, flag.stderr)
    const env = { CODEX_TASKS_CODEX_BIN: "tools/codex" }
    const fromEnv = await runCli(sandbox, ["start", ...args, "--json", "REPLY:b"], { env })
    assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
    const { id } = JSON.parse(fromEnv.stdout) as { id: string }
    const send = await runCli(sandbox, ["send", "--wait", id, "REPLY:c"], { env })
    assert.strictEqual(send.code, 0, send.stderr)
    assert.isTrue(existsSync(ran("ours")), "the CLI's tools/codex ran")
    assert.isFalse(existsSync(ran("repo")), "the working directory's tools/codex never ran")
  })

  it("a bare name is looked up on PATH's absolute entries only; not found → exit 1 before launching", async () => {
    const { sandbox, ran } = await setup()
    // PATH starts with a relative entry: from the task's directory it finds tools/codex-in-repo.
    const env = { PATH: `tools:${process.env.PATH ?? ""}` }
    const run = await runCli(
      sandbox,
      [
        "start",
        "--skip-git-repo-check",
        "--working-dir",
        "project",
        "--codex-bin",
        "codex-in-repo",
        "-",
      ],
      { env, stdin: "REPLY:x" },
    )
    assert.strictEqual(run.code, 1, run.stdout)
    assert.strictEqual(
      run.stderr,
      "codex-tasks: The codex executable was not found (codex-in-repo is not on PATH); install codex or pass --codex-bin.\n",
    )
    assert.isFalse(existsSync(ran("repo")), "the working directory's codex never ran")
    assert.deepStrictEqual(storeEntries(sandbox), [], "no task was created")
  })
})
