import { spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { MAX_PROMPT_CHARS } from "../../src/domain/promptLimit.js"
import { cliPath, commandLine, runCli, SANDBOX_MARK_VAR, waitFor } from "../support/cli.js"
import { e2eWorld } from "../support/e2eWorld.js"
import { processesWithEnv } from "../support/processes.js"

// Issue 20 through the built CLI: values that cannot work are usage errors (exit 2) before any
// task exists, and a start refused that way leaves no worker (prewarmed or not) behind.

const { setup } = e2eWorld()

const workersOf = (mark: string) =>
  processesWithEnv(SANDBOX_MARK_VAR, mark).filter((pid) =>
    (commandLine(pid) ?? "").includes("__worker"),
  )
const taskCount = (storeRoot: string) =>
  readdirSync(storeRoot).filter((n) => !n.startsWith(".")).length
const startDirs = (storeRoot: string) =>
  readdirSync(join(storeRoot, ".tmp")).filter((n) => n.startsWith("start-"))

describe("limits that cannot work are refused with exit 2", () => {
  it("durations past 365d, a stall timeout under 5m, a prompt over codex's limit", async () => {
    const { sandbox } = await setup()
    const first = await runCli(sandbox, ["start", "--skip-git-repo-check", "REPLY:one"])
    assert.strictEqual(first.code, 0, first.stderr)
    const id = first.stdout.trim()
    await waitFor("the first task's worker to exit", () =>
      workersOf(sandbox.mark).length === 0 ? true : undefined,
    )
    // The store is in use now: every start below had a worker spawned ahead of it.
    const refused: Array<[ReadonlyArray<string>, string, string?]> = [
      [
        ["start", "--turn-timeout", "9999999999999d", "REPLY:two"],
        'codex-tasks: --turn-timeout: Duration "9999999999999d" is too long: at most 365d.\n',
      ],
      [
        ["start", "--stall-timeout", "30s", "REPLY:two"],
        "codex-tasks: --stall-timeout 30s is too short: at least 5m (a model that is thinking prints nothing until it is done; 0 turns the watchdog off).\n",
      ],
      [
        ["start", "-"],
        `codex-tasks: The prompt is longer than codex accepts (at most ${MAX_PROMPT_CHARS} characters); put the material in a file and name it in the prompt.\n`,
        "x".repeat(MAX_PROMPT_CHARS + 1),
      ],
      [
        ["status", "--wait", "--timeout", "99999999999", id],
        "codex-tasks: --timeout must be a whole number of seconds from 0 to 31536000 (365 days): 99999999999\n",
      ],
      [
        ["stop", "--timeout", "99999999999", id],
        "codex-tasks: --timeout must be a whole number of seconds from 0 to 31536000 (365 days): 99999999999\n",
      ],
    ]
    for (const [args, stderr, stdin] of refused) {
      const run = await runCli(sandbox, args, stdin === undefined ? {} : { stdin })
      assert.deepStrictEqual([run.code, run.stderr], [2, stderr], args.join(" "))
    }
    await waitFor("no worker left", () => (workersOf(sandbox.mark).length === 0 ? true : undefined))
    assert.deepStrictEqual(startDirs(sandbox.storeRoot), [])
    assert.strictEqual(taskCount(sandbox.storeRoot), 1)
  })

  it("a worker that has no request yet exits on SIGTERM", async () => {
    const { sandbox } = await setup()
    // NODE_DEBUG=net: it says `_read` once it reads its stdin, after its signal handlers are set.
    const worker = spawn(process.execPath, [cliPath, "__worker"], {
      env: { ...sandbox.env, NODE_DEBUG: "net" },
      stdio: ["pipe", "pipe", "pipe"],
    })
    let stderr = ""
    worker.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
    })
    const exited = new Promise<number | null>((resolve) =>
      worker.on("exit", (code) => resolve(code)),
    )
    // Its stdin stays open: it waits for a request that will never come.
    await waitFor("the worker to read its stdin", () =>
      stderr.includes("_read") ? true : undefined,
    )
    worker.kill("SIGTERM")
    assert.strictEqual(await exited, 0, stderr)
  })
})
