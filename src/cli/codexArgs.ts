import { Context } from "effect"
import { routeOf } from "./route.js"

// `codex-tasks start [OPTIONS] PROMPT -- ARGS...`: @effect/cli hands everything after `--` to
// the positional arguments (where `start` has only PROMPT), so `Cli.ts` splits it off before
// parsing and provides it to `start` as this service.

/** The raw codex arguments given after `start ... --` (none for every other command). */
export class CodexArgs extends Context.Reference<CodexArgs>()("codex-tasks/CodexArgs", {
  defaultValue: (): ReadonlyArray<string> => [],
}) {}

/**
 * `args` (`process.argv.slice(2)`) without the `-- ARGS...` of a `start` command, and those
 * ARGS; any other command line is left whole (its `--` keeps @effect/cli's meaning).
 */
export const splitCodexArgs = (
  args: ReadonlyArray<string>,
): { readonly args: ReadonlyArray<string>; readonly codexArgs: ReadonlyArray<string> } => {
  const at = args.indexOf("--")
  if (at < 0 || routeOf(args.slice(0, at)) !== "start") return { args, codexArgs: [] }
  return { args: args.slice(0, at), codexArgs: args.slice(at + 1) }
}
