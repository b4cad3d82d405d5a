import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { splitCodexArgs } from "../../src/cli/codexArgs.js"
import { resumeArgv } from "../../src/exec/argv.js"
import { CODEX_ALIASES, canonicalExtraArgs, extraArgsProblems } from "../../src/exec/extraArgs.js"

// `start ... -- ARGS`: which raw codex arguments pass, and how the command line is split.

describe("extraArgsProblems", () => {
  it("accepts long options, --name=value, and the value of an option that takes one", () => {
    for (const args of [
      [],
      ["--oss"],
      ["--oss", "--local-provider", "ollama"],
      ["--local-provider=lmstudio", "--strict-config", "--ignore-rules"],
      ["--color", "never", "--trust"],
      // An option this table does not know (a newer codex): passed on, codex judges it.
      ["--some-new-flag", "--some-new-setting=3"],
    ]) {
      expect(extraArgsProblems(args), args.join(" ")).toEqual([])
    }
  })

  it("refuses what would break how codex-tasks runs codex, naming the argument and why", () => {
    const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
      [["-"], "only options"],
      [["resume"], "only options"],
      [["a prompt"], "only options"],
      [["--"], "only options"],
      [["--json"], "--json"],
      [["--json=false"], "--json"],
      [["--output-last-message", "/tmp/x"], "-o file"],
      [["-o", "/tmp/x"], "long form"],
      [["-C", "/tmp"], "long form"],
      [["--cd=/tmp"], "--working-dir"],
      [["--ephemeral"], "cannot be resumed"],
      [["--worktree"], "--worktree"],
      [["--help"], "help"],
      [["--last"], "resumes"],
      [["--image", "a.png"], "--image"],
      [["--sandbox=danger-full-access"], "use --sandbox"],
      [["--add-dir", "/x"], "use --add-dir"],
      [["--config", "a=1"], "use --config"],
      [["--model", "m"], "use --model"],
      [["--local-provider"], "needs a value"],
      [["--color", "--oss"], "needs a value"],
      [[""], "empty"],
    ]
    for (const [args, why] of cases) {
      const problems = extraArgsProblems(args)
      expect(problems.length, args.join(" ")).toBeGreaterThan(0)
      expect(problems[0], args.join(" ")).toContain(JSON.stringify(args[0]))
      expect(problems[0], args.join(" ")).toContain(why)
    }
  })

  it("refuses the value of an unknown option given as a separate argument (it would be a prompt)", () => {
    expect(extraArgsProblems(["--some-new-setting", "3"])).toEqual([
      expect.stringContaining('"3": only options'),
    ])
  })

  it("refuses codex's hidden aliases of refused flags as it refuses the flags, naming both", () => {
    for (const [args, canonical] of [
      [["--yolo"], "--dangerously-bypass-approvals-and-sandbox"],
      [["--yolo=true"], "--dangerously-bypass-approvals-and-sandbox"],
      [["--experimental-json"], "--json"],
    ] as const) {
      const problems = extraArgsProblems(args)
      expect(problems, args[0]).toEqual([expect.stringContaining(`an alias of ${canonical}`)])
      expect(problems[0]).toContain(JSON.stringify(args[0]))
    }
    // The bypass alias is told to use codex-tasks' own flag, the one task.json records.
    expect(extraArgsProblems(["--yolo"])[0]).toContain(
      "use --dangerously-bypass-approvals-and-sandbox",
    )
  })

  it("records an accepted alias under its canonical name", () => {
    expect(canonicalExtraArgs(["--not-so-yolo", "--oss", "--color", "never"])).toEqual([
      "--approve-for-me",
      "--oss",
      "--color",
      "never",
    ])
  })

  it("lists every problem of one command line", () => {
    expect(extraArgsProblems(["--json", "--oss", "resume", "-C"])).toHaveLength(3)
  })

  it("accepted arguments go before `resume` on a resume, as one block", () => {
    const extra = ["--oss", "--local-provider", "ollama"]
    const argv = resumeArgv("t-1", { extraArgs: extra }, "/o")
    expect(argv.slice(-6)).toEqual([...extra, "resume", "t-1", "-"])
  })
})

// The real codex (0.169, the pinned dependency): each alias is the flag it is said to stand for
// (clap refuses a flag given twice, under either name; an unknown one is "unexpected argument").
describe("codex's hidden aliases", () => {
  const codex = (args: ReadonlyArray<string>) =>
    spawnSync(
      process.execPath,
      [new URL("../../node_modules/@openai/codex/bin/codex.js", import.meta.url).pathname, ...args],
      { encoding: "utf8", timeout: 30_000 },
    )
  for (const [alias, canonical] of Object.entries(CODEX_ALIASES)) {
    it(`${alias} is ${canonical}`, () => {
      const both = codex(["exec", alias, canonical, "--help"])
      expect(both.stderr).toContain(`the argument '${canonical}' cannot be used multiple times`)
    })
  }
})

describe("splitCodexArgs", () => {
  it("splits off what follows the first -- of a start command", () => {
    expect(splitCodexArgs(["start", "-t", "x", "hello", "--", "--oss", "--", "-"])).toEqual({
      args: ["start", "-t", "x", "hello"],
      codexArgs: ["--oss", "--", "-"],
    })
    expect(
      splitCodexArgs(["--store-root", "/s", "start", "hello", "--", "--help"]).codexArgs,
    ).toEqual(["--help"])
  })

  it("leaves other commands, and start without --, whole", () => {
    for (const args of [
      ["start", "hello"],
      ["send", "0199", "--", "-x"],
      ["log", "--", "0199"],
      ["--help", "start", "--", "x"],
    ]) {
      expect(splitCodexArgs(args)).toEqual({ args, codexArgs: [] })
    }
  })
})
