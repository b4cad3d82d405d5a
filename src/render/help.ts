import type { HelpArg, HelpCommand, HelpOption } from "./helpModel.js"

// `--help` in the layout of clap (codex, cargo): a summary, `Usage:` with value names, one
// aligned line per command, argument and option (wrapped under its description column),
// `[env: …]`, `[default: …]` and `[possible values: …]` where they apply, examples last.

/** Value names @effect/cli has no field for (`--working-dir <DIR>`); others: the option's name in capitals. */
const VALUE_NAMES: Readonly<Record<string, string>> = {
  "--working-dir": "DIR",
  "--store-root": "DIR",
  "--allow-dir": "DIR",
  "--allow-repo": "URL",
  "--add-dir": "DIR",
  "--config-file": "FILE",
  "--output-schema": "FILE",
  "--image": "FILE",
  "--codex-bin": "PATH",
  "--config": "KEY=VALUE",
  "--repo": "URL",
  "--repo-ref": "REF",
  "--base": "REF",
  "--sandbox": "MODE",
  "--timeout": "SECONDS",
  "--time-format": "FORMAT",
  "--lines": "N",
  "--max-tokens": "N",
  "--max-running": "N",
  "--stall-timeout": "DURATION",
  "--turn-timeout": "DURATION",
  "--max-limit-wait": "DURATION",
  "--approval-timeout": "TIME",
  "--on-finish": "CMD",
  "--webhook": "URL",
  "--branch": "NAME",
  "--enable": "FEATURE",
  "--disable": "FEATURE",
  "--cluster": "URL",
  "--host-id": "NAME",
  "--listen": "ADDR:PORT",
  "--on": "HOST",
}

/** Environment variables an option falls back to (read by the store and exec layers, not by @effect/cli). */
const ENV: Readonly<Record<string, string>> = {
  "--store-root": "CODEX_TASKS_HOME",
  "--codex-bin": "CODEX_TASKS_CODEX_BIN",
  "--cluster": "CODEX_TASKS_CLUSTER",
}

/** Options still accepted but no longer shown (kept for old scripts). */
const HIDDEN: ReadonlySet<string> = new Set(["--plan-tool"])

/** Arguments after `--` that `Cli.ts` splits off before @effect/cli parses (`cli/codexArgs.ts`). */
const TRAILING: Readonly<Record<string, readonly [string, string]>> = {
  start: [
    "[-- <CODEX_ARG>...]",
    "Raw arguments for codex exec, after the prompt and a literal --: long options only (--name, --name=value), each passed as one argument, stored and replayed on every resume.",
  ],
}

const WIDTH = 100
const MAX_LEFT = 34

/** @effect/cli's built-in options as shown (`--log-level` and `--wizard` work but are not listed). */
const builtIns = (isRoot: boolean): Array<HelpOption> => {
  const flag = (long: string, short: Array<string>, description: string): HelpOption => ({
    long,
    short,
    value: undefined,
    pseudoName: undefined,
    choices: [],
    defaultValue: undefined,
    repeated: false,
    required: false,
    description,
  })
  const help = flag("--help", ["-h"], "Print help")
  if (!isRoot) return [help]
  return [
    {
      ...flag("--completions", [], "Print a shell completion script"),
      value: "text",
      pseudoName: "SHELL",
      choices: ["sh", "bash", "fish", "zsh"],
    },
    help,
    flag("--version", [], "Print version"),
  ]
}

const valueName = (o: HelpOption) =>
  o.pseudoName ?? VALUE_NAMES[o.long] ?? o.long.replace(/^-+/, "").replace(/-/g, "_").toUpperCase()

const optionLeft = (o: HelpOption) => {
  const names = o.short.length > 0 ? `${o.short.join(", ")}, ${o.long}` : `    ${o.long}`
  const value = o.value === undefined ? "" : ` <${valueName(o)}>`
  return `${names}${value}${o.repeated ? "..." : ""}`
}

// A `[tag: value]` is never split over lines.
const tag = (name: string, value: string) => `[${name}: ${value}]`.replace(/ /g, "\u00a0")

const optionRight = (o: HelpOption) => {
  const env = ENV[o.long]
  return [
    o.description,
    env === undefined ? "" : tag("env", env),
    o.defaultValue === undefined ? "" : tag("default", o.defaultValue),
    o.choices.length === 0 ? "" : tag("possible values", o.choices.join(", ")),
  ]
    .filter((s) => s !== "")
    .join(" ")
}

const argName = (a: HelpArg) =>
  `${a.optional ? `[${a.name}]` : `<${a.name}>`}${a.repeated ? "..." : ""}`

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/[ \t\n]+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  if (line !== "") lines.push(line)
  return lines.map((l) => l.replace(/\u00a0/g, " "))
}

/** Rows of `left  right`, the right column aligned and wrapped; a too-long left gets its own line. */
const rows = (entries: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const fits = entries.map(([l]) => l.length).filter((n) => n <= MAX_LEFT)
  const column = 2 + Math.max(0, ...fits) + 2
  const out: Array<string> = []
  for (const [left, right] of entries) {
    const text = wrap(right, Math.max(40, WIDTH - column))
    const pad = " ".repeat(column)
    if (2 + left.length + 2 > column) {
      out.push(`  ${left}`)
      for (const t of text) out.push(pad + t)
    } else {
      const [first = "", ...rest] = text
      out.push(`  ${left.padEnd(column - 2)}${first}`.trimEnd())
      for (const t of rest) out.push(pad + t)
    }
  }
  return out
}

const isExample = (paragraph: string) => /^Examples?\b/.test(paragraph)

/** `Example: cmd` lines as `cmd`; `Example (what):` as `what:` with the lines under it. */
const exampleLines = (paragraph: string): Array<string> =>
  paragraph.split("\n").map((line) => {
    const labelled = /^Examples? \((.*)\):\s*$/.exec(line)
    if (labelled) return `  ${labelled[1]}:`
    return `  ${line.replace(/^Examples?:\s*/, "")}`
  })

const summaryOf = (c: HelpCommand) => (c.paragraphs[0] ?? "").split("\n")[0] ?? ""

const usageLine = (program: string, c: HelpCommand, shown: ReadonlyArray<HelpOption>) => {
  const required = shown.filter((o) => o.required).map((o) => `${o.long} <${valueName(o)}>`)
  const parts = [program, ...required, "[OPTIONS]"]
  if (c.subcommands.length > 0) parts.push("<COMMAND>")
  for (const a of c.args) parts.push(argName(a))
  const trailing = TRAILING[c.name]
  if (trailing !== undefined) parts.push(trailing[0])
  return `Usage: ${parts.join(" ")}`
}

/**
 * The help text of `command` (`root` itself or one of its subcommands), invoked as `program`
 * (`codex-tasks` or `codex-tasks start`). Options the root has too are listed as global options.
 */
export const renderHelp = (root: HelpCommand, command: HelpCommand, program: string): string => {
  const isRoot = command === root
  const visible = (o: HelpOption) => !HIDDEN.has(o.long)
  const globalNames = new Set(root.options.map((o) => o.long))
  const own = command.options.filter((o) => visible(o) && (isRoot || !globalNames.has(o.long)))
  const globals = isRoot ? [] : command.options.filter((o) => visible(o) && globalNames.has(o.long))
  const section = (title: string, lines: ReadonlyArray<string>) =>
    lines.length === 0 ? [] : ["", `${title}:`, ...lines]
  const optionRows = (os: ReadonlyArray<HelpOption>) =>
    rows(os.map((o) => [optionLeft(o), optionRight(o)] as const))

  const [summary = "", ...more] = command.paragraphs.filter((p) => !isExample(p))
  const prose = [summary, ...more].flatMap((p, i) => [
    ...(i === 0 ? [] : [""]),
    ...p.split("\n").flatMap((line) => (line.startsWith(" ") ? [line] : wrap(line, WIDTH))),
  ])
  const examples = command.paragraphs.filter(isExample).flatMap(exampleLines)
  const trailing = isRoot ? undefined : TRAILING[command.name]
  const lines = [
    ...prose,
    "",
    usageLine(program, command, command.options.filter(visible)),
    ...section("Commands", rows(command.subcommands.map((s) => [s.name, summaryOf(s)] as const))),
    ...section(
      "Arguments",
      rows([
        ...command.args.map((a) => [argName(a), a.description] as const),
        ...(trailing === undefined ? [] : [trailing]),
      ]),
    ),
    ...section("Options", optionRows(isRoot ? [...own, ...builtIns(true)] : own)),
    ...section("Global options", isRoot ? [] : optionRows([...globals, ...builtIns(false)])),
    ...section("Examples", examples),
  ]
  if (isRoot && root.subcommands.length > 0) {
    lines.push("", `Run '${program} <COMMAND> --help' for the options of a command.`)
  }
  return lines.join("\n")
}
