import { resolve } from "node:path"
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import type { ExecOptions } from "../exec/options.js"
import { type PinnedPath, realPathOf } from "../exec/pinnedPaths.js"
import type { WorktreeRecord } from "../tasks/worktree.js"
import { isInside, repoAllowed, repoSource } from "./confine.js"
import { notifyRefused, type StartInput } from "./startInput.js"

// What a client may not widen without --allow-unsafe (docs/mcp.md "What --allow-unsafe gates"):
// the one gate of MCP `task_start` / `task_send` / `task_diff` and of `serve`'s API. Every refusal
// names the argument; paths are passed on as the real paths that were checked, so a link swapped
// in after the check cannot redirect codex.

type Start = StartInput

/** What the gate judges by: the server's flags (`mcp`, `serve`) and where it runs. */
export interface GateContext {
  /** `--allow-unsafe`: bulk stop/archive and every start option. */
  readonly allowUnsafe: boolean
  /** The server's working directory (a real path): relative paths are resolved from it. */
  readonly cwd: string
  /** The directory trees a client may point codex at (real paths): `cwd` and each --allow-dir. */
  readonly roots: ReadonlyArray<string>
  /** `--allow-repo`: the network repository addresses (or prefixes) a `repoUrl` may name. */
  readonly allowRepos?: ReadonlyArray<string> | undefined
}

const NOT_UNSAFE = "the server was not started with --allow-unsafe"

/**
 * How the gate judges one exec option without --allow-unsafe: `free` (any value), `refused`
 * (when `when` holds; `shown` names it), `path` / `paths` (confined to the allowed trees and
 * passed on as the real paths that were checked). `arg` is the `task_start` argument's name.
 */
type Rule<A> =
  | { readonly kind: "free" }
  | {
      readonly kind: "refused"
      readonly when: (value: A) => boolean
      readonly shown: (value: A) => string
    }
  | { readonly kind: "path" | "paths"; readonly arg: string }

const free = { kind: "free" } as const
const refused = <A>(arg: string, when: (value: A) => boolean = () => true): Rule<A> => ({
  kind: "refused",
  when,
  shown: () => arg,
})
const nonEmpty = (xs: ReadonlyArray<string>) => xs.length > 0

/**
 * One rule per exec option (docs/mcp.md "What --allow-unsafe gates"): TypeScript refuses a new
 * `ExecOptions` field without one, and `task_start` and `task_send` judge through the same table.
 */
const RULES: { readonly [K in keyof ExecOptions]-?: Rule<NonNullable<ExecOptions[K]>> } = {
  workingDir: { kind: "path", arg: "workingDir" },
  // A whole other CODEX_HOME configuration.
  configFile: refused("configFile"),
  // An override can set sandbox_mode or start a program outside the sandbox.
  configOverrides: refused("config", nonEmpty),
  sandbox: {
    kind: "refused",
    when: (s) => s === "danger-full-access",
    shown: (s) => `sandbox: ${JSON.stringify(s)}`,
  },
  model: free,
  profile: refused("profile"),
  images: { kind: "paths", arg: "images:" },
  skipGitRepoCheck: free,
  bypassApprovalsAndSandbox: refused("dangerouslyBypassApprovalsAndSandbox", (b) => b),
  planTool: free,
  // codex reads the file and sends it to the model provider, as it does images.
  outputSchema: { kind: "path", arg: "outputSchema" },
  // More trees codex may write to.
  addDirs: { kind: "paths", arg: "addDirs:" },
  // `--enable X` is `-c features.X=true`: a feature may lift a safeguard or add a tool.
  enableFeatures: refused("enableFeatures", nonEmpty),
  disableFeatures: refused("disableFeatures", nonEmpty),
  // Raw codex options can do all of the above.
  extraArgs: refused("extraArgs", nonEmpty),
  // Which codex program runs the turns: either runs under the same rules.
  backend: free,
  // Asking before commands only takes power away; the timeout declines.
  approvals: free,
  approvalTimeoutMs: free,
}

/** The exec option fields the gate confines (real paths checked, pinned until the spawn). */
const PATH_FIELDS = (Object.keys(RULES) as Array<keyof ExecOptions>).filter((k) => {
  const kind = RULES[k].kind
  return kind === "path" || kind === "paths"
})

/** `path` (relative: from the server's directory) as the real path it was checked as. */
const confined = (ctx: GateContext, what: string, path: string, given = path) => {
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

/** Every problem of `options` (one sentence each) and the options with their checked real paths. */
const judgeOptions = (ctx: GateContext, options: ExecOptions) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    // Each confined path is checked even after a refusal, so one error names every problem.
    const check = (e: Effect.Effect<string, string>) =>
      Effect.match(e, {
        onFailure: (p) => {
          problems.push(p)
          return ""
        },
        onSuccess: (real) => real,
      })
    const checked: Record<string, unknown> = { ...options }
    for (const key of Object.keys(RULES) as Array<keyof ExecOptions>) {
      const value: unknown = options[key]
      const rule = RULES[key] as Rule<unknown>
      if (value === undefined || rule.kind === "free") continue
      if (rule.kind === "refused") {
        if (rule.when(value)) problems.push(`${rule.shown(value)} is refused: ${NOT_UNSAFE}.`)
      } else if (rule.kind === "path") {
        checked[key] = yield* check(confined(ctx, rule.arg, String(value)))
      } else {
        checked[key] = yield* Effect.forEach(value as ReadonlyArray<string>, (p) =>
          check(confined(ctx, rule.arg, p)),
        )
      }
    }
    return { problems, checked: checked as ExecOptions }
  })

/**
 * The paths of `options` the gate confined, each with its real path now: the worker checks them
 * again right before it spawns codex (a link swapped during a run-slot wait is refused there).
 * `images` only for a start: a resume does not send them again.
 */
const pinsOf = (options: ExecOptions, resume: boolean): Array<PinnedPath> =>
  PATH_FIELDS.filter((k) => !(resume && k === "images")).flatMap((k) => {
    const value: unknown = options[k]
    const paths = typeof value === "string" ? [value] : ((value ?? []) as ReadonlyArray<string>)
    return paths.flatMap((p) => {
      const real = realPathOf(resolve(p))
      return real === undefined ? [] : [{ path: p, real }]
    })
  })

// A network address makes the server connect wherever the client says, with its owner's
// credentials (ssh keys, git credential helpers): only the --allow-repo ones, else only local
// repositories in the allowed trees.
const repoUrlOf = (ctx: GateContext, url: string) => {
  const source = repoSource(url, ctx.cwd)
  if (source.kind === "network") {
    const allowed = ctx.allowRepos ?? []
    return repoAllowed(url, allowed)
      ? Effect.succeed(url)
      : Effect.fail(
          `repoUrl ${url} is refused: it is a network address ${allowed.length === 0 ? "and the server allows none" : `not under ${allowed.join(", ")}`} (add one with --allow-repo URL, or clone it into an allowed directory and give that path); ${NOT_UNSAFE}.`,
        )
  }
  if (source.kind === "refused") {
    return Effect.fail(`repoUrl ${url} is refused: ${source.reason}; ${NOT_UNSAFE}.`)
  }
  return Effect.flatMap(confined(ctx, "repoUrl", source.path, url), (real) =>
    real.includes("%") && url.startsWith("file:")
      ? Effect.fail(`repoUrl ${url} is refused: its real path contains %; ${NOT_UNSAFE}.`)
      : Effect.succeed(source.withPath(real)),
  )
}

/** What `task_start` passes on: its arguments (a local `repoUrl` as the checked real path), the exec options, the pinned paths. */
export interface GatedStart {
  readonly args: Start
  readonly options: ExecOptions
  readonly pinnedPaths: ReadonlyArray<PinnedPath> | undefined
}

/**
 * `task_start`'s arguments as the server passes them on. Without --allow-unsafe: judges every
 * exec option by `RULES` (all problems named in one error), refuses notifications, and confines a
 * `repoUrl` to local repositories in the server's directory and the --allow-dir ones.
 */
export const gateStart = (
  ctx: GateContext,
  a: Start,
  options: ExecOptions,
): Effect.Effect<GatedStart, UsageError> =>
  Effect.gen(function* () {
    if (ctx.allowUnsafe) return { args: a, options, pinnedPaths: undefined }
    const { problems, checked } = yield* judgeOptions(ctx, options)
    problems.push(...notifyRefused(a).map((arg) => `${arg} is refused: ${NOT_UNSAFE}.`))
    const repoUrl =
      a.repoUrl === undefined
        ? undefined
        : yield* Effect.match(repoUrlOf(ctx, a.repoUrl), {
            onFailure: (p) => {
              problems.push(p)
              return undefined
            },
            onSuccess: (url) => url,
          })
    if (problems.length > 0) return yield* new UsageError({ message: problems.join("\n") })
    return {
      args: repoUrl === undefined ? a : { ...a, repoUrl },
      options: checked,
      pinnedPaths: pinsOf(checked, false),
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
const outsideRoots = (ctx: GateContext, dir: string | undefined) => {
  if (dir === undefined) return undefined
  const real = realPathOf(resolve(ctx.cwd, dir))
  if (real !== undefined && isInside(real, ctx.roots)) return undefined
  return `workingDir ${dir} (outside ${ctx.roots.join(", ")}; see --allow-dir)`
}

/**
 * Refuses, without --allow-unsafe, to feed a task whose recorded options (replayed on every
 * resume) `task_start` would refuse here, judged by the same `RULES`: a person or an unsafe
 * server chose them. A worktree task is judged by the directory it was started from. Answers the
 * paths the worker pins until it spawns codex (none with --allow-unsafe).
 */
export const gateResume = (
  ctx: GateContext,
  id: string,
  options: ExecOptions,
  worktree?: WorktreeRecord,
  tool = "task_send",
): Effect.Effect<ReadonlyArray<PinnedPath> | undefined, UsageError> =>
  Effect.gen(function* () {
    if (ctx.allowUnsafe) return undefined
    const dir = taskDirOf(options, worktree)
    const judged = dir === undefined ? options : { ...options, workingDir: dir }
    const { problems } = yield* judgeOptions(ctx, judged)
    if (problems.length === 0) return pinsOf(options, true)
    return yield* new UsageError({
      message: `${tool} to task ${id} is refused: it was recorded with options task_start would refuse here (every resume replays them):\n${problems.join("\n")}`,
    })
  })

/**
 * Refuses, without --allow-unsafe, to show what a task changed when the task works outside the
 * allowed trees (a worktree task: when it was started outside them): the diff is file content.
 */
export const gateRead = (
  ctx: GateContext,
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
