import { describe, expect, it } from "vitest"
import { commandWith } from "../../src/cli/Cli.js"
import { helpText } from "../../src/cli/help.js"
import { COMMANDS } from "../../src/cli/route.js"

// Every command's --help, as the user reads it (one file per command under __snapshots__/help/).
const tree = await commandWith()
const help = (name: string) => {
  const text = helpText(tree, name)
  if (text === undefined) throw new Error(`no help for ${name}`)
  return text
}
const names = ["codex-tasks", ...COMMANDS]

describe("--help", () => {
  for (const name of names) {
    it(`${name}: reads like codex's or cargo's`, async () => {
      const text = help(name)
      const program = name === "codex-tasks" ? name : `codex-tasks ${name}`
      const lines = text.split("\n")
      // A summary first, then the usage line with the program's full name.
      expect(lines[0]).toMatch(/^[A-Z].*\S/)
      expect(text).toMatch(new RegExp(`\\nUsage: ${program} \\[OPTIONS\\]`))
      // None of @effect/cli's boilerplate, no title block.
      expect(text).not.toMatch(/user-defined piece of text|This setting is optional|true or false/)
      expect(text).not.toContain("codex-tasks 0.1.0")
      expect(text).not.toMatch(/^\$ /m)
      // Every option and argument has a description: beside it, or on the next line.
      const entries = lines.flatMap((l, i) => (/^ {2}( {4})?[-<[]/.test(l) ? [i] : []))
      expect(entries.length).toBeGreaterThan(0)
      for (const i of entries) {
        const described =
          /^ +\S.*? {2,}\S/.test(lines[i] ?? "") || /^ {8,}\S/.test(lines[i + 1] ?? "")
        expect(described, `described: ${lines[i]}`).toBe(true)
      }
      // Examples, where the command has some, come last.
      const sections = lines.filter((l) => /^[A-Z][a-z ]+:$/.test(l))
      if (sections.includes("Examples:")) expect(sections.at(-1)).toBe("Examples:")
      await expect(text).toMatchFileSnapshot(`__snapshots__/help/${name}.txt`)
    })
  }

  it("start lists value names, defaults, env variables and choices", () => {
    const text = help("start")
    expect(text).toMatch(/^ {6}--working-dir <DIR> +Directory codex works in/m)
    expect(text).toMatch(/^ {2}-c, --config <KEY=VALUE>\.\.\. +\S/m)
    expect(text).toMatch(/--store-root <DIR> .*\n? *.*\[env: CODEX_TASKS_HOME\]/)
    expect(text).toContain("[possible values: read-only, workspace-write, danger-full-access]")
    expect(help("status")).toContain("[default: human] [possible values: human, iso]")
  })

  it("start no longer lists --plan-tool (still accepted by the parser)", () => {
    expect(help("start")).not.toContain("--plan-tool")
  })
})
