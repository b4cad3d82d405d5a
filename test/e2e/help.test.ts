import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CliSandbox, makeCliSandbox, runCli } from "../support/cli.js"

// `--help` of the built CLI as a user types it: on stdout, exit 0, in the layout of codex's and
// cargo's help; a usage error stays an error (exit 2, on stderr).

let sandbox: CliSandbox
beforeAll(async () => {
  sandbox = await makeCliSandbox({ url: "http://127.0.0.1:9" })
})
afterAll(() => sandbox.dispose())

const env = { NO_COLOR: "1" }

describe("help of the built CLI", () => {
  it("start --help and start -h: usage with the program and value names, no boilerplate", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await runCli(sandbox, ["start", flag], { env })
      expect(r.code).toBe(0)
      expect(r.stderr).toBe("")
      expect(r.stdout).toMatch(/^Start a task in the background/)
      expect(r.stdout).toContain(
        "\nUsage: codex-tasks start [OPTIONS] <PROMPT> [-- <CODEX_ARG>...]\n",
      )
      expect(r.stdout).toMatch(/\n {6}--working-dir <DIR> +Directory codex works in/)
      expect(r.stdout).not.toMatch(/user-defined piece of text|This setting is optional/)
      expect(r.stdout).not.toContain("codex-tasks 0.1.0")
      expect(r.stdout).not.toContain("--plan-tool")
      expect(r.stdout.trimEnd().split("\n").at(-4)).toBe("Examples:")
    }
  })

  it("the root's help: without arguments, with --help, with only a global option", async () => {
    for (const args of [[], ["--help"], ["-h"], ["--store-root", sandbox.storeRoot]]) {
      const r = await runCli(sandbox, args, { env })
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout).toContain("\nUsage: codex-tasks [OPTIONS] <COMMAND>\n")
      expect(r.stdout).toMatch(/\n {2}start {4}Start a task in the background/)
    }
  })

  it("a global option before the command, and -h after arguments, still show that command's help", async () => {
    const before = await runCli(sandbox, ["--store-root", sandbox.storeRoot, "stop", "--help"], {
      env,
    })
    const after = await runCli(sandbox, ["stop", "abc", "-h"], { env })
    for (const r of [before, after]) {
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("\nUsage: codex-tasks stop [OPTIONS] [TASK]...\n")
    }
  })

  it("a usage error is not help: exit 2 and a message on stderr", async () => {
    const r = await runCli(sandbox, ["start", "--bogus", "--help"], { env })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("--help")
  })
})
