import { resolve } from "node:path"
import { Effect } from "effect"
import type * as z from "zod"
import { UsageError } from "../domain/exit.js"
import type { ExecOptions } from "../exec/options.js"
import type { WorktreeRecord } from "../tasks/worktree.js"
import type { McpContext } from "./bridge.js"
import { isInside, realPathOf, repoSource } from "./confine.js"
import type { StartArgs } from "./schemas.js"
import { notifyRefused } from "./unattended.js"

// What a client may not widen without --allow-unsafe (docs/mcp.md "What --allow-unsafe gates").
// Every refusal names the argument; paths are passed on as the real paths that were checked, so
// a link swapped in after the check cannot redirect codex.

type Start = z.infer<typeof StartArgs>

const NOT_UNSAFE = "the server was not started with --allow-unsafe"

/** The options no client may set without --allow-unsafe, as the arguments that set them. */
const widening = (o: ExecOptions): Array<string> => [
  ...(o.sandbox === "danger-full-access" ? ['sandbox: "danger-full-access"'] : []),
  ...(o.bypassApprovalsAndSandbox === true ? ["dangerouslyBypassApprovalsAndSandbox"] : []),
  ...((o.configOverrides ?? []).length > 0 ? ["config"] : []),
  ...(o.configFile !== undefined ? ["configFile"] : []),
  ...(o.profile !== undefined ? ["profile"] : []),
  ...((o.extraArgs ?? []).length > 0 ? ["extraArgs"] : []),
]

/** `path` (relative: from the server's directory) as the real path it was checked as. */
const confined = (ctx: McpContext, what: string, path: string, given = path) => {
  const real = realPathOf(resolve(ctx.cwd, path))
  const shown = real === undefined || real === given ? given : `${given} (really ${real})`
  if (real === undefined) {
    return Effect.fail(
      `${what} ${shown} is refused: a symbolic link on the way cannot be resolved; ${NOT_UNSAFE}.`,
    )
  }
  if (isInside(real, ctx.roots)) return Effect.succeed(real)
  return Effect.fail(
    `${what} ${shown} is refused: it is outside the directories this server may use (${ctx.roots.join(", ")}; add one with --allow-dir DIR); ${NOT_UNSAFE}.`,
  )
}

const repoUrlOf = (ctx: McpContext, url: string) => {
  const source = repoSource(url, ctx.cwd)
  if (source.kind === "network") return Effect.succeed(url)
  if (source.kind === "refused") {
    return Effect.fail(`repoUrl ${url} is refused: ${source.reason}; ${NOT_UNSAFE}.`)
  }
  return Effect.flatMap(confined(ctx, "repoUrl", source.path, url), (real) =>
    real.includes("%") && url.startsWith("file:")
      ? Effect.fail(`repoUrl ${url} is refused: its real path contains %; ${NOT_UNSAFE}.`)
      : Effect.succeed(source.withPath(real)),
  )
}

/**
 * `task_start`'s arguments as the server passes them on. Without --allow-unsafe: refuses every
 * widening option (all of them named in one error) and confines `workingDir`, `images` and a
 * local `repoUrl` to the server's directory and the --allow-dir ones.
 */
export const gateStart = (ctx: McpContext, a: Start): Effect.Effect<Start, UsageError> =>
  Effect.gen(function* () {
    if (ctx.allowUnsafe) return a
    const problems = widening({
      sandbox: a.sandbox,
      bypassApprovalsAndSandbox: a.dangerouslyBypassApprovalsAndSandbox,
      configOverrides: a.config,
      configFile: a.configFile,
      profile: a.profile,
      extraArgs: a.extraArgs,
    })
      .concat(notifyRefused(a))
      .map((arg) => `${arg} is refused: ${NOT_UNSAFE}.`)
    // Each confined path is checked even after a refusal, so one error names every problem.
    const check = (e: Effect.Effect<string, string>) =>
      Effect.match(e, {
        onFailure: (p) => {
          problems.push(p)
          return ""
        },
        onSuccess: (real) => real,
      })
    const workingDir =
      a.workingDir === undefined
        ? undefined
        : yield* check(confined(ctx, "workingDir", a.workingDir))
    const images =
      a.images === undefined
        ? undefined
        : yield* Effect.forEach(a.images, (i) => check(confined(ctx, "images:", i)))
    const repoUrl = a.repoUrl === undefined ? undefined : yield* check(repoUrlOf(ctx, a.repoUrl))
    if (problems.length > 0) return yield* new UsageError({ message: problems.join("\n") })
    return {
      ...a,
      ...(workingDir === undefined ? {} : { workingDir }),
      ...(images === undefined ? {} : { images }),
      ...(repoUrl === undefined ? {} : { repoUrl }),
    }
  })

/**
 * The directory a task is judged by: where it runs, or for a worktree task (running in the
 * store's `.worktrees/`) the directory it was started from, as its `worktree.json` records.
 */
const taskDirOf = (options: ExecOptions, worktree: WorktreeRecord | undefined) => {
  const dir = options.workingDir
  if (worktree === undefined || dir === undefined) return dir
  const real = realPathOf(resolve(dir))
  const tree = realPathOf(worktree.path)
  return real !== undefined && tree !== undefined && isInside(real, [tree]) ? worktree.dir : dir
}

/** Why the task's directory is not one this server may use (undefined when it is). */
const outsideRoots = (ctx: McpContext, dir: string | undefined) => {
  if (dir === undefined) return undefined
  const real = realPathOf(resolve(ctx.cwd, dir))
  if (real !== undefined && isInside(real, ctx.roots)) return undefined
  return `workingDir ${dir} (outside ${ctx.roots.join(", ")}; see --allow-dir)`
}

/**
 * Refuses, without --allow-unsafe, to feed a task whose recorded options (replayed on every
 * resume) the server would have refused at start: a person or an unsafe server chose them.
 * A worktree task is judged by the directory it was started from.
 */
export const gateResume = (
  ctx: McpContext,
  id: string,
  options: ExecOptions,
  worktree?: WorktreeRecord,
) =>
  Effect.gen(function* () {
    if (ctx.allowUnsafe) return
    const problems = widening(options)
    const outside = outsideRoots(ctx, taskDirOf(options, worktree))
    if (outside !== undefined) problems.push(outside)
    if (problems.length === 0) return
    return yield* new UsageError({
      message: `task_send to task ${id} is refused: it runs with ${problems.join(", ")}, and ${NOT_UNSAFE}.`,
    })
  })

/**
 * Refuses, without --allow-unsafe, to show what a task changed when the task works outside the
 * allowed trees (a worktree task: when it was started outside them): the diff is file content.
 */
export const gateRead = (
  ctx: McpContext,
  id: string,
  options: ExecOptions,
  worktree: WorktreeRecord | undefined,
) =>
  Effect.gen(function* () {
    if (ctx.allowUnsafe) return
    const outside = outsideRoots(ctx, taskDirOf(options, worktree))
    if (outside === undefined) return
    return yield* new UsageError({
      message: `task_diff of task ${id} is refused: it runs with ${outside}, and ${NOT_UNSAFE}.`,
    })
  })
