/**
 * The gate of `mcp --cluster` (gate.ts judges for a server on the tasks' own machine): the same
 * refusals, except that a path names a file on the task's host, which this machine cannot resolve,
 * so without --allow-unsafe every path argument is refused rather than confined.
 */
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import type { ExecOptions } from "../exec/options.js"
import { repoSource } from "./confine.js"
import { type GateContext, gateStart } from "./gate.js"
import { execOptionsOf, notifyOfArgs, type StartInput } from "./startInput.js"

const ON_HOST =
  "it is a path on the task's host, which this server cannot check (--allow-dir confines paths of this machine only); the server was not started with --allow-unsafe"

/** The path arguments of `input` (a local `repoUrl` included), by `task_start` argument name. */
const pathArgsOf = (ctx: GateContext, input: StartInput): Array<string> => [
  ...(input.workingDir !== undefined ? ["workingDir"] : []),
  ...(input.images !== undefined && input.images.length > 0 ? ["images"] : []),
  ...(input.repoUrl !== undefined && repoSource(input.repoUrl, ctx.cwd).kind === "local"
    ? ["repoUrl"]
    : []),
]

/**
 * `task_start`'s arguments and exec options as a fleet server passes them on to the host: with
 * --allow-unsafe as given; without, refused for what `gateStart` refuses and for any path
 * argument (every problem named in one error).
 */
export const gateFleetStart = (
  ctx: GateContext,
  input: StartInput,
): Effect.Effect<{ readonly args: StartInput; readonly options: ExecOptions }, UsageError> =>
  Effect.gen(function* () {
    if (ctx.allowUnsafe) return { args: input, options: execOptionsOf(input) }
    const paths = pathArgsOf(ctx, input)
    const problems = paths.map((arg) => `${arg} is refused: ${ON_HOST}.`)
    const rest: StartInput = {
      ...input,
      workingDir: undefined,
      images: undefined,
      repoUrl: paths.includes("repoUrl") ? undefined : input.repoUrl,
    }
    const judged = yield* Effect.either(gateStart(ctx, rest, execOptionsOf(rest)))
    if (judged._tag === "Left") problems.push(judged.left.message)
    if (judged._tag === "Left" || problems.length > 0) {
      return yield* new UsageError({ message: problems.join("\n") })
    }
    return { args: judged.right.args, options: judged.right.options }
  })

/** What a fleet server's `start` asks a host for (cluster/protocol.ts `StartRequest`'s fields). */
export interface FleetStart {
  readonly prompt: string
  readonly title: string | undefined
  readonly options: ExecOptions
  readonly repo: { readonly url: string; readonly ref: string | undefined } | undefined
  readonly worktree:
    | { readonly base?: string | undefined; readonly branch?: string | undefined }
    | undefined
}

/**
 * A fleet server's start (`mcp --cluster` `task_start`, `serve --cluster` `POST /api/tasks`): the
 * gate's judgement, then what the fleet cannot do refused (notifications, approvals "ask", a
 * repoRef without repoUrl); the request to send to the host.
 */
export const gateFleetStartRequest = (
  ctx: GateContext,
  input: StartInput,
): Effect.Effect<FleetStart, UsageError> =>
  Effect.gen(function* () {
    const { args, options } = yield* gateFleetStart(ctx, input)
    const refuse = (message: string) => Effect.fail(new UsageError({ message }))
    if (notifyOfArgs(args) !== undefined)
      return yield* refuse("onFinish and webhook are not available with --cluster.")
    if (args.repoRef !== undefined && args.repoUrl === undefined)
      return yield* refuse("repoRef needs repoUrl.")
    return {
      prompt: args.prompt,
      title: args.title,
      options,
      repo: args.repoUrl === undefined ? undefined : { url: args.repoUrl, ref: args.repoRef },
      worktree: args.worktree === undefined ? undefined : { ...args.worktree },
    }
  })

/**
 * Whether a fleet server may feed or read task `id` (`what`: the refused action, for the
 * message): with --allow-unsafe any task, else only the tasks it started itself (their options
 * went through its gate; any other task's are on its host, where this server cannot check them).
 */
export const gateFleetTask = (
  ctx: GateContext & { readonly startedHere: ReadonlySet<string> },
  task: { readonly id: string; readonly host: string },
  what: string,
): Effect.Effect<void, UsageError> =>
  ctx.allowUnsafe || ctx.startedHere.has(task.id)
    ? Effect.void
    : Effect.fail(
        new UsageError({
          message: `${what} task ${task.id} is refused: it was not started through this server, and its options and where it works are on host ${task.host}, where this server cannot check them; the server was not started with --allow-unsafe.`,
        }),
      )
