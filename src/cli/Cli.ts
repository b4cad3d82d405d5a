import { Command, ValidationError } from "@effect/cli"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Console, Effect, Option } from "effect"
import { ExitCode } from "../domain/exit.js"
import { colorEnabled } from "../render/style.js"
import { setFaultRole } from "../store/faults.js"
import { VERSION } from "../version.js"
import { CodexArgs, splitCodexArgs } from "./codexArgs.js"
import { printHelpIfAsked } from "./help.js"
import { exitCodeOf, runAsProcess } from "./process.js"
import { root } from "./root.js"
import { COMMANDS, type CommandName, type Route, routeOf } from "./route.js"
import { RootGlobals } from "./runtime.js"

// Each subcommand's module is loaded only when it is needed (its handler's dependencies with it).
// The type is the widest subcommand: what `Command.withSubcommands` accepts.
type Sub = Command.Command<string, never, unknown, unknown>
const subcommands: Record<CommandName, () => Promise<Sub>> = {
  start: () => import("./commands/start.js").then((m) => m.start as Sub),
  send: () => import("./commands/send.js").then((m) => m.send as Sub),
  status: () => import("./commands/status.js").then((m) => m.status as Sub),
  log: () => import("./commands/log.js").then((m) => m.log as Sub),
  stop: () => import("./commands/stop.js").then((m) => m.stop as Sub),
  approve: () => import("./commands/approve.js").then((m) => m.approve as Sub),
  decline: () => import("./commands/decline.js").then((m) => m.decline as Sub),
  ls: () => import("./commands/ls.js").then((m) => m.ls as Sub),
  diff: () => import("./commands/diff.js").then((m) => m.diff as Sub),
  apply: () => import("./commands/apply.js").then((m) => m.apply as Sub),
  archive: () => import("./commands/archive.js").then((m) => m.archive as Sub),
  mcp: () => import("./commands/mcp.js").then((m) => m.mcp as Sub),
  serve: () => import("./commands/serve.js").then((m) => m.serve as Sub),
  doctor: () => import("./commands/doctor.js").then((m) => m.doctor as Sub),
  runner: () => import("./commands/runner.js").then((m) => m.runner as Sub),
}

/** The command tree with `names` as subcommands (all of them: the full tree). */
export const commandWith = async (names: ReadonlyArray<CommandName> = COMMANDS) => {
  const [first, ...rest] = await Promise.all(names.map((n) => subcommands[n]()))
  return root.pipe(
    Command.withSubcommands([first as Sub, ...rest]),
    // The options given before the subcommand, for `globalsWith` (cli/runtime.ts).
    Command.provideSync(RootGlobals, (g) => ({
      storeRoot: g.storeRoot,
      codexBin: g.codexBin,
      maxRunning: g.maxRunning,
      cluster: g.cluster,
    })),
  )
}

/**
 * The tree `argv` (as `process.argv`) needs: only the invoked subcommand, or the full tree for
 * help, completions, an unknown command and the like (`route.ts`); `full` forces the full tree.
 */
const treeFor = (route: Route, full: boolean) =>
  commandWith(full || route === "tree" || route === "worker" ? COMMANDS : [route])

// Help is rendered by `cli/help.ts` (only the full tree can ask for it: `route.ts`).
// `start ... -- ARGS` are codex's arguments: split off first (`cli/codexArgs.ts`).
const cli = (argv: ReadonlyArray<string>, full: boolean) => {
  const { args, codexArgs } = splitCodexArgs(argv.slice(2))
  const route = routeOf(args)
  return Effect.flatMap(
    Effect.promise(() => treeFor(route, full)),
    (command) =>
      Effect.flatMap(
        route === "tree" ? printHelpIfAsked(command, args) : Effect.succeed(false),
        (printed) =>
          printed
            ? Effect.void
            : Command.run(command, { name: "codex-tasks", version: VERSION })([
                ...argv.slice(0, 2),
                ...args,
              ]),
      ),
  ).pipe(Effect.provideService(CodexArgs, codexArgs))
}

/** Maps how a command ended to its exit code; @effect/cli has printed its own errors already. */
const cliExitCodeOf = (cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) {
    return Effect.succeed(
      ValidationError.isHelpRequested(failure.value) ? ExitCode.Ok : ExitCode.Usage,
    )
  }
  return exitCodeOf(cause)
}

const ANSI = /\x1b\[[0-9;]*m/g
const plain = (enabled: boolean) => (args: ReadonlyArray<unknown>) =>
  enabled ? args : args.map((a) => (typeof a === "string" ? a.replace(ANSI, "") : a))

/** @effect/cli colours its help and errors unconditionally: strip that off a non-terminal and under NO_COLOR. */
const withPlainConsole = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) => {
    const out = plain(colorEnabled(process.stdout, process.env))
    const err = plain(colorEnabled(process.stderr, process.env))
    return Console.withConsole(effect, {
      ...console,
      log: (...args) => console.log(...out(args)),
      info: (...args) => console.info(...out(args)),
      error: (...args) => console.error(...err(args)),
      warn: (...args) => console.warn(...err(args)),
    })
  })

/**
 * Runs the CLI on `argv` (as `process.argv`) and resolves to the process exit code; `fullTree`
 * builds every subcommand even where one is enough (same output, slower).
 */
export const main = (argv: ReadonlyArray<string>, options: { readonly fullTree?: boolean } = {}) =>
  withPlainConsole(cli(argv, options.fullTree === true)).pipe(
    Effect.as(ExitCode.Ok as number),
    Effect.catchAllCause(cliExitCodeOf),
  )

/** Runs the CLI as the process: exit code per `main`; SIGINT/SIGTERM interrupt it (exit 130/143). */
export const runCli = (
  argv: ReadonlyArray<string>,
  options: { readonly fullTree?: boolean } = {},
): void => {
  setFaultRole("cli")
  runAsProcess(main(argv, options), NodeTerminal.layer)
}
