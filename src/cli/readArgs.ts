/**
 * The fast read path's argv parser: the everyday forms of `ls` and `status` (`codex-tasks ls`,
 * `ls -a --json`, `status -a`, `status ID --json`, …) parsed without @effect/cli, whose start-up
 * is most of such a command's time. It accepts only argv whose meaning is certain (each option
 * once, values that cannot be mistaken for options, no boolean words where @effect/cli would read
 * them as a flag's value); anything else returns `undefined` and goes through the command tree,
 * which gives its help and errors. Plain values only: the launcher loads this before any bundle.
 */

import type { ShowStatusOptions } from "./commands/showStatus.js"
import type { ListRequest } from "./commands/showTaskList.js"
import { GLOBAL_OPTIONS } from "./route.js"

/** The global options on one side of the command (`undefined`: not given there). */
export interface ReadGlobals {
  readonly storeRoot?: string
  readonly codexBin?: string
  readonly maxRunning?: number
}

/** `ls` as `readArgs` parsed it. */
export interface LsArgv extends ListRequest {
  readonly command: "ls"
}

/** `status` as `readArgs` parsed it (a plain `timeout`: this module loads no Effect). */
export interface StatusArgv extends Omit<ShowStatusOptions, "timeout"> {
  readonly command: "status"
  readonly timeout: number | undefined
}

/** A read command parsed: the globals before it, those after it, and its own options. */
export interface ReadArgs {
  readonly before: ReadGlobals
  readonly after: ReadGlobals
  readonly request: LsArgv | StatusArgv
}

// The words @effect/cli reads as the value of the boolean flag before them (`--json true`).
const BOOLEAN_WORDS = new Set(["true", "1", "y", "yes", "on", "false", "0", "n", "no", "off"])
const FLAGS: Record<"ls" | "status", Record<string, string>> = {
  ls: { "--all": "all", "-a": "all", "--json": "json" },
  status: {
    "--all": "all",
    "-a": "all",
    "--all-running": "allRunning",
    "-A": "allRunning",
    "--json": "json",
    "--wait": "wait",
    "--wait-any": "waitAny",
  },
}
const VALUED: Record<"ls" | "status", ReadonlyArray<string>> = {
  ls: ["--time-format", "--state"],
  status: ["--time-format", "--timeout"],
}
// `--cluster` is not read here: a fleet-wide `ls` or `status` goes through the command tree.
const GLOBALS: ReadonlyArray<string> = GLOBAL_OPTIONS.filter((g) => g !== "--cluster")
// @effect/cli takes `--name=value` for these, but not for a repeated option (`--state`).
const WITH_EQUALS = new Set(["--time-format", "--timeout", ...GLOBALS])

const wholeNumber = (text: string) => (/^[0-9]{1,9}$/.test(text) ? Number(text) : undefined)

/** Splits `--name=value` or `--name value`; `undefined` when the value is missing or doubtful. */
const valued = (args: ReadonlyArray<string>, i: number, names: ReadonlyArray<string>) => {
  const a = args[i] ?? ""
  const eq = a.indexOf("=")
  const name = eq > 0 ? a.slice(0, eq) : a
  if (!names.includes(name)) return undefined
  if (eq > 0 && !WITH_EQUALS.has(name)) return null
  const value = eq > 0 ? a.slice(eq + 1) : args[i + 1]
  if (value === undefined || value === "" || value.startsWith("-")) return null
  return { name, value, next: eq > 0 ? i + 1 : i + 2 }
}

const globalsFrom = (seen: Map<string, string>): ReadGlobals | undefined => {
  const maxRunning = seen.get("--max-running")
  const limit = maxRunning === undefined ? undefined : wholeNumber(maxRunning)
  if (maxRunning !== undefined && limit === undefined) return undefined
  const storeRoot = seen.get("--store-root")
  const codexBin = seen.get("--codex-bin")
  return {
    ...(storeRoot === undefined ? {} : { storeRoot }),
    ...(codexBin === undefined ? {} : { codexBin }),
    ...(limit === undefined ? {} : { maxRunning: limit }),
  }
}

/** `args` (`process.argv.slice(2)`) as a fast read, or `undefined`: the command tree decides. */
export const readArgs = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = process.env,
): ReadArgs | undefined => {
  if ((env.CODEX_TASKS_CLUSTER ?? "") !== "") return undefined
  const beforeSeen = new Map<string, string>()
  let i = 0
  for (;;) {
    const g = valued(args, i, GLOBALS)
    if (g === null) return undefined
    if (g === undefined) break
    if (beforeSeen.has(g.name)) return undefined
    beforeSeen.set(g.name, g.value)
    i = g.next
  }
  const command = args[i]
  if (command !== "ls" && command !== "status") return undefined
  const flags = FLAGS[command]
  const names = [...VALUED[command], ...GLOBALS]
  const on = new Set<string>()
  const values = new Map<string, string>()
  const states: Array<string> = []
  const tasks: Array<string> = []
  for (i++; i < args.length; ) {
    const a = args[i] ?? ""
    const flag = flags[a]
    if (flag !== undefined) {
      if (on.has(flag) || BOOLEAN_WORDS.has(args[i + 1] ?? "")) return undefined
      on.add(flag)
      i++
      continue
    }
    const v = valued(args, i, names)
    if (v === null) return undefined
    if (v !== undefined) {
      if (v.name === "--state") states.push(v.value)
      else if (values.has(v.name)) return undefined
      else values.set(v.name, v.value)
      i = v.next
      continue
    }
    if (command === "ls" || a === "" || a.startsWith("-") || BOOLEAN_WORDS.has(a)) return undefined
    tasks.push(a)
    i++
  }
  const timeFormat = values.get("--time-format") ?? "human"
  if (timeFormat !== "human" && timeFormat !== "iso") return undefined
  const rawTimeout = values.get("--timeout")
  const timeout = rawTimeout === undefined ? undefined : wholeNumber(rawTimeout)
  if (rawTimeout !== undefined && timeout === undefined) return undefined
  const before = globalsFrom(beforeSeen)
  const after = globalsFrom(values)
  if (before === undefined || after === undefined) return undefined
  const json = on.has("json")
  const all = on.has("all")
  const request: LsArgv | StatusArgv =
    command === "ls"
      ? { command, all, state: states, json, timeFormat }
      : {
          command,
          json,
          timeFormat,
          all,
          allRunning: on.has("allRunning"),
          wait: on.has("wait"),
          waitAny: on.has("waitAny"),
          timeout,
          tasks,
        }
  return { before, after, request }
}
