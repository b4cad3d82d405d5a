import { mkdirSync } from "node:fs"
import * as Terminal from "@effect/platform/Terminal"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Console, Effect, Exit, Layer, Scope } from "effect"
import { main } from "../../src/cli/Cli.js"
import { makePrinter, Printer } from "../../src/cli/Printer.js"
import { CliWorld } from "../../src/cli/runtime.js"
import type { FakeScript } from "../../src/testing/index.js"
import { makeTasksWorld } from "./tasksWorld.js"

// `codex-tasks <argv>` in-process: the CLI's own parse, handlers and exit codes, with the live
// world replaced by the public fakes (a real store in a temp directory, workers as fibers running
// a scripted codex, a fake process table) and stdout/stderr captured.

/** What a command printed and how it ended. */
export interface CliRun {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

/** A store, a scripted codex and in-process workers, built once for the test's scope. */
export const makeCliWorld = (scripts: ReadonlyArray<FakeScript>) =>
  Effect.gen(function* () {
    const w = yield* makeTasksWorld(scripts)
    const context = yield* Layer.build(w.layer)
    const world: CliWorld["Type"] = { tasks: () => Layer.succeedContext(context) }
    return { ...w, world }
  })

/** The world of `makeCliWorld`. */
export type CliTestWorld = Effect.Effect.Success<ReturnType<typeof makeCliWorld>>

// No terminal: nothing here is interactive.
const noTerminal = Layer.succeed(
  Terminal.Terminal,
  Terminal.Terminal.of({
    columns: Effect.succeed(100),
    rows: Effect.succeed(40),
    isTTY: Effect.succeed(false),
    readInput: Effect.die("no terminal in an in-process run"),
    readLine: Effect.die("no terminal in an in-process run"),
    display: () => Effect.void,
  }),
)

/** Runs `codex-tasks ...argv` in `world`, capturing stdout and stderr. */
export const runCli = (world: CliTestWorld, argv: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    let stdout = ""
    let stderr = ""
    const out = (data: string | Uint8Array) =>
      Effect.sync(() => {
        stdout += typeof data === "string" ? data : Buffer.from(data).toString("utf8")
      })
    const err = (text: string) =>
      Effect.sync(() => {
        stderr += text
      })
    const line =
      (to: (text: string) => Effect.Effect<void>) =>
      (...args: ReadonlyArray<unknown>) =>
        to(`${args.map(String).join(" ")}\n`)
    const code = yield* Console.consoleWith((console) =>
      Console.withConsole(main(["node", "codex-tasks", ...argv]), {
        ...console,
        log: line(out),
        info: line(out),
        error: line(err),
        warn: line(err),
      }),
    ).pipe(
      Effect.provideService(Printer, makePrinter(out, err)),
      Effect.provideService(CliWorld, world.world),
      Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, noTerminal)),
    )
    return { stdout, stderr, code } satisfies CliRun
  })

/** A `CliTestWorld` for plain async tests: `run` a command, `close` when done. */
export interface OpenCliWorld {
  readonly root: string
  readonly workingDir: string
  readonly run: (argv: ReadonlyArray<string>) => Promise<CliRun>
  /** How many codex runs the scripted codex was asked for. */
  readonly codexRuns: () => number
  readonly close: () => Promise<void>
}

/**
 * Opens a world outside Effect; `seed` is called with the (empty) store root before the first
 * command, to copy a store into it.
 */
export const openCliWorld = async (
  scripts: ReadonlyArray<FakeScript>,
  seed: (root: string) => void = () => {},
): Promise<OpenCliWorld> => {
  const scope = Effect.runSync(Scope.make())
  const world = await Effect.runPromise(Scope.extend(makeCliWorld(scripts), scope))
  mkdirSync(world.root, { recursive: true })
  seed(world.root)
  return {
    root: world.root,
    workingDir: world.workingDir,
    run: (argv) => Effect.runPromise(Effect.scoped(runCli(world, argv))),
    codexRuns: () => world.codex.requests.length,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}
