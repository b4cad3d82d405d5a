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
import { execOptionsOf, type StartInput } from "./startInput.js"

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
