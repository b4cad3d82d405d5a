import { homedir } from "node:os"
import { Context, Effect, Layer, Option } from "effect"
import { CodexNotFound } from "../domain/errors.js"
import { ExitCode, ExitWith, UsageError } from "../domain/exit.js"
import { redactUrl, redactUrlIn } from "../domain/notify.js"
import { retryPolicyFromEnv } from "../domain/retryPolicy.js"
import { resolveCodexBin } from "../exec/codexBin.js"
import { nativeCodex } from "../exec/nativeCodex.js"
import { workerCommand } from "../launcher/prewarm.js"
import * as WorkerLauncher from "../launcher/WorkerLauncher.js"
import * as ProcessesLive from "../processes/live.js"
import { guardedStoreRoot, type UnsafeStoreRoot } from "../store/rootGuard.js"
import { resolveStoreRoot } from "../store/storeRootPath.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks, TasksConfig } from "../tasks/Tasks.js"
import { resolveMaxRunning } from "./options/maxRunning.js"
import { Printer } from "./Printer.js"

/** The global options as a subcommand parsed them (see `globalOptions`). */
export interface LocalGlobals {
  readonly storeRoot: Option.Option<string>
  readonly codexBin: Option.Option<string>
  readonly maxRunning?: Option.Option<number>
  readonly cluster?: Option.Option<string>
}

const none: LocalGlobals = { storeRoot: Option.none(), codexBin: Option.none() }

/**
 * The global options given before the command (`codex-tasks --store-root X ls`), as the root
 * command parsed them (Cli.ts provides them; so does the fast read path, `fastRead.ts`).
 */
export class RootGlobals extends Context.Tag("codex-tasks/RootGlobals")<
  RootGlobals,
  LocalGlobals
>() {}

const given = (local: Option.Option<string>, before: Option.Option<string>) =>
  Option.getOrElse(
    Option.orElse(local, () => before),
    () =>
      process.env.CODEX_TASKS_CODEX_BIN !== undefined && process.env.CODEX_TASKS_CODEX_BIN !== ""
        ? process.env.CODEX_TASKS_CODEX_BIN
        : "codex",
  )

/**
 * The global options, resolved: store root and codex binary. A value given after the command
 * (`local`) wins over one given before it (`RootGlobals`), which wins over the environment. The
 * codex binary is made absolute here, from the CLI's directory and `PATH` (`resolveCodexBin`), so
 * the directory a task runs in never chooses it; `codexMissing` says why when no such file exists
 * (`codexBin` is then the absolute path meant, or the bare name, which no worker is launched with).
 */
export const globalsWith = (local: LocalGlobals = none) =>
  Effect.map(Effect.serviceOption(RootGlobals), (before) => {
    const g = Option.getOrElse(before, () => none)
    const bin = given(local.codexBin, g.codexBin)
    const codex = resolveCodexBin(bin)
    const slots = resolveMaxRunning(
      Option.orElse(local.maxRunning ?? Option.none(), () => g.maxRunning ?? Option.none()),
      process.env,
    )
    const cluster = Option.getOrElse(
      Option.orElse(local.cluster ?? Option.none(), () => g.cluster ?? Option.none()),
      () => process.env.CODEX_TASKS_CLUSTER ?? "",
    )
    return {
      cluster: cluster === "" ? undefined : cluster,
      storeRoot: resolveStoreRoot({
        flag: Option.getOrUndefined(Option.orElse(local.storeRoot, () => g.storeRoot)),
        env: process.env,
        home: homedir(),
      }),
      codexBin: codex.path ?? bin,
      codexMissing: codex.found ? undefined : codex.detail,
      maxRunning: slots.limit,
      maxRunningProblem: slots.problem,
    }
  })

/** The command that re-enters this program as a detached worker. */
const notice = (line: string) => process.stderr.write(`codex-tasks: ${line}\n`)

/**
 * The store alone (read-only commands need nothing else), once its root passed the ownership and
 * permission check (`store/rootGuard.ts`; a root that others can read is tightened, with a notice).
 */
export const storeLayer = (storeRoot: string) =>
  TaskStore.Default.pipe(Layer.provide(guardedStoreRoot(storeRoot, { notify: notice })))

/** Fails like a run of a missing codex would, before anything is launched. */
export const requireCodex = (g: { readonly codexMissing: string | undefined }) =>
  g.codexMissing === undefined
    ? Effect.void
    : Effect.fail(
        new CodexNotFound({
          message: `The codex executable was not found (${g.codexMissing}); install codex or pass --codex-bin.`,
          evidence: { exitCode: null, signal: null, stderrTail: [], lastEvents: [] },
        }),
      )

/**
 * Everything the task operations need, built from the global options. With `launches`, codex is
 * run as its native binary when the one given is the npm launcher (see `exec/nativeCodex.ts`);
 * commands that launch nothing skip that lookup.
 */
export const tasksLayer = (
  g: WorldGlobals,
  options: { readonly launches?: boolean } = { launches: true },
) =>
  Tasks.Default.pipe(
    Layer.provideMerge(storeLayer(g.storeRoot)),
    Layer.provide(WorkerLauncher.layer(workerCommand())),
    Layer.provide(
      TasksConfig.layer(
        options.launches === false ? g.codexBin : nativeCodex(g.codexBin).bin,
        retryPolicyFromEnv(process.env),
        g.maxRunning,
      ),
    ),
    Layer.provide(ProcessesLive.layer),
  )

/** What a command's world is built from: the resolved global options. */
export interface WorldGlobals {
  readonly storeRoot: string
  readonly codexBin: string
  readonly maxRunning?: number | undefined
}

/**
 * The world commands run in: the task service and the store, built from the global options.
 * Live (`tasksLayer`) unless the context holds another, as in-process tests do with the public
 * fakes (test/support/cliInProcess.ts); a `Printer` in the context likewise replaces stdout/stderr.
 */
export class CliWorld extends Context.Tag("codex-tasks/CliWorld")<
  CliWorld,
  {
    readonly tasks: (
      g: WorldGlobals,
      options: { readonly launches: boolean },
    ) => Layer.Layer<Tasks | TaskStore, UnsafeStoreRoot>
  }
>() {}

const liveWorld: CliWorld["Type"] = { tasks: (g, options) => tasksLayer(g, options) }

/**
 * Runs a command's `effect` with the task service, the store and the printer, built from the
 * global options (in the `CliWorld` of the context, else the live one). With `launches` (start,
 * send) a codex binary that cannot be found fails the command first.
 */
export const withTasks = <A, E>(
  effect: Effect.Effect<A, E, Tasks | TaskStore | Printer>,
  local: LocalGlobals = none,
  options: { readonly launches?: boolean } = {},
) =>
  Effect.gen(function* () {
    const g = yield* globalsWith(local)
    const world = yield* Effect.serviceOption(CliWorld)
    const printer = yield* Effect.serviceOption(Printer)
    if (options.launches === true) {
      if (g.maxRunningProblem !== undefined) {
        return yield* new UsageError({ message: g.maxRunningProblem })
      }
      // A world of its own brings its own codex (the in-process tests' scripted one).
      if (Option.isNone(world)) yield* requireCodex(g)
    }
    const tasks = Option.getOrElse(world, () => liveWorld).tasks(g, {
      launches: options.launches === true,
    })
    const output = Option.match(printer, {
      onNone: () => Printer.layer,
      onSome: (p) => Layer.succeed(Printer, p),
    })
    return yield* Effect.provide(effect, Layer.merge(tasks, output))
  })

/** The fleet's commands (`cli/fleet.ts`), loaded only when a command works on a fleet. */
type FleetCommands = typeof import("./fleet.js")

/**
 * `inFleet` when the command works on a fleet (`--cluster URL` after or before the command, else
 * `CODEX_TASKS_CLUSTER`), else `local`. The fleet's code is loaded only then.
 */
export const fleetOr = <A, E, R>(
  local: LocalGlobals,
  inFleet: (
    fleet: FleetCommands,
  ) => Effect.Effect<unknown, unknown, import("./fleet.js").FleetContext>,
  localProgram: Effect.Effect<A, E, R>,
  engine: import("../cluster/client.js").EngineWhen = "now",
): Effect.Effect<A | undefined, unknown, R> =>
  Effect.flatMap(globalsWith(local), (g): Effect.Effect<A | undefined, unknown, R> => {
    const url = g.cluster
    if (url === undefined) return localProgram
    return Effect.flatMap(
      Effect.promise(() => import("./fleet.js")),
      (fleet) => Effect.as(fleet.onFleet(url, inFleet(fleet), engine), undefined),
    )
  })

/**
 * Fails with a usage error when the command works on a fleet and `what` (an option it was given)
 * does not work there: before anything connects or loads.
 */
export const refuseOnFleet = (local: LocalGlobals, what: string | undefined) =>
  what === undefined
    ? Effect.void
    : Effect.flatMap(globalsWith(local), (g) =>
        g.cluster === undefined ? Effect.void : notOnFleet(what),
      )

/** Fails with a usage error: `what` does not work with `--cluster` (yet). */
export const notOnFleet = (what: string) =>
  Effect.fail(new UsageError({ message: `${what} is not available with --cluster.` }))

const messageOf = (e: unknown) =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
    ? e.message
    : String(e)

/**
 * A fleet command's failure as the user should read it: a PostgreSQL failure names the URL
 * without its password (never the password, whatever the driver said); a runner's usage error
 * stays a usage error (exit 2).
 */
export const fleetFailure =
  (url: string) =>
  (e: unknown): Effect.Effect<never, unknown> => {
    const tag = typeof e === "object" && e !== null && "_tag" in e ? e._tag : undefined
    if (tag === "SqlError") {
      const cause = (e as { cause?: unknown }).cause
      return Effect.fail(
        new ExitWith({
          code: ExitCode.Error,
          message: `the fleet's PostgreSQL (${redactUrl(url)}) failed: ${redactUrlIn(messageOf(cause ?? e), url)}`,
        }),
      )
    }
    if (tag === "FleetError" && (e as { usage: boolean }).usage) {
      return Effect.fail(new UsageError({ message: messageOf(e) }))
    }
    return Effect.fail(e)
  }
