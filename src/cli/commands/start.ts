import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { UsageError } from "../../domain/exit.js"
import { SandboxMode } from "../../exec/options.js"
import { Tasks } from "../../tasks/Tasks.js"
import { CodexArgs } from "../codexArgs.js"
import {
  approvalOptions,
  startApprovals,
  startBackend,
  startBackendOptions,
} from "../options/backendOption.js"
import { fleetMaxRunning } from "../options/fleetMaxRunning.js"
import { limitOptions, startLimits } from "../options/limitOptions.js"
import { cliStartExtras, notifyOptions } from "../options/notifyOptions.js"
import { promptFrom } from "../options/promptArg.js"
import { worktreeOptions, worktreeRequest } from "../options/worktreeOptions.js"
import { printJson, printLine, printNote } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, notOnFleet, refuseOnFleet, withTasks } from "../runtime.js"
import { checkWatchOptions, followTranscript, waitAndReport, watchOptions } from "./turnWatch.js"

const optional = Option.getOrUndefined

/** Options shared by `start` and the MCP `task_start`. */
const options = {
  ...globalOptions,
  title: Options.text("title").pipe(
    Options.withAlias("t"),
    Options.withDescription("A title for the task."),
    Options.optional,
  ),
  workingDir: Options.text("working-dir").pipe(
    Options.withDescription("Directory codex works in (default: the current directory)."),
    Options.optional,
  ),
  configFile: Options.text("config-file").pipe(
    Options.withDescription("A config.toml; its directory becomes CODEX_HOME for this task."),
    Options.optional,
  ),
  config: Options.text("config").pipe(
    Options.withAlias("c"),
    Options.withDescription("A codex config override key=value (repeatable)."),
    Options.repeated,
  ),
  sandbox: Options.choice("sandbox", SandboxMode.literals).pipe(
    Options.withAlias("s"),
    Options.withDescription("Sandbox mode for commands codex runs."),
    Options.optional,
  ),
  model: Options.text("model").pipe(
    Options.withAlias("m"),
    Options.withDescription("The model codex uses."),
    Options.optional,
  ),
  profile: Options.text("profile").pipe(
    Options.withAlias("p"),
    Options.withDescription("A configuration profile from config.toml."),
    Options.optional,
  ),
  image: Options.text("image").pipe(
    Options.withAlias("i"),
    Options.withDescription("An image to attach to the first prompt (repeatable)."),
    Options.repeated,
  ),
  skipGitRepoCheck: Options.boolean("skip-git-repo-check").pipe(
    Options.withDescription("Allow running outside a git repository."),
  ),
  bypass: Options.boolean("dangerously-bypass-approvals-and-sandbox").pipe(
    Options.withDescription(
      "Run commands without sandbox or approvals (only in an isolated environment).",
    ),
  ),
  // Not in --help (codex has no such flag): kept for old scripts as `-c tools.update_plan.enabled=true`.
  planTool: Options.boolean("plan-tool"),
  outputSchema: Options.file("output-schema").pipe(
    Options.withDescription("A JSON Schema file the final answer must follow (every turn)."),
    Options.optional,
  ),
  addDir: Options.directory("add-dir").pipe(
    Options.withDescription("Another directory codex may write to (repeatable)."),
    Options.repeated,
  ),
  enable: Options.text("enable").pipe(
    Options.withDescription("Turn a codex feature on (repeatable)."),
    Options.repeated,
  ),
  disable: Options.text("disable").pipe(
    Options.withDescription("Turn a codex feature off (repeatable)."),
    Options.repeated,
  ),
  repo: Options.text("repo").pipe(
    Options.withDescription("Clone this git repository into --working-dir first."),
    Options.optional,
  ),
  repoRef: Options.text("repo-ref").pipe(
    Options.withDescription("Branch, tag or commit to check out after --repo."),
    Options.optional,
  ),
  ...startBackendOptions,
  ...approvalOptions,
  ...notifyOptions,
  json: Options.boolean("json").pipe(Options.withDescription('Print {"id": ...} as JSON.')),
  ...limitOptions,
  ...watchOptions,
  ...worktreeOptions,
  on: Options.text("on").pipe(
    Options.withDescription(
      "With --cluster: the host to run the task on (default: the live runner with the fewest running tasks).",
    ),
    Options.optional,
  ),
  prompt: Args.text({ name: "PROMPT" }).pipe(
    Args.withDescription("The prompt, or - to read it from stdin."),
  ),
}

/** The exec options `start` was given (`extra`: the backend's, decided by an effect). */
const execOptionsOf = (
  o: Command.Command.ParseConfig<typeof options>,
  codexArgs: ReadonlyArray<string>,
  extra: Effect.Effect.Success<ReturnType<typeof backendExtras>>,
) => ({
  workingDir: optional(o.workingDir),
  configFile: optional(o.configFile),
  configOverrides: o.config,
  sandbox: optional(o.sandbox),
  model: optional(o.model),
  profile: optional(o.profile),
  images: o.image,
  skipGitRepoCheck: o.skipGitRepoCheck,
  bypassApprovalsAndSandbox: o.bypass,
  planTool: o.planTool,
  outputSchema: optional(o.outputSchema),
  addDirs: o.addDir,
  enableFeatures: o.enable,
  disableFeatures: o.disable,
  extraArgs: codexArgs,
  ...extra,
})

/** `--backend` and `--approvals` (checked against each other). */
const backendExtras = (o: Command.Command.ParseConfig<typeof options>) =>
  Effect.gen(function* () {
    const backend = yield* startBackend(o.backend)
    const approvals = yield* startApprovals(o)
    return { backend, ...approvals }
  })

/** `start --cluster`: the same request, sent to a host of the fleet. */
const startOnFleet = (
  o: Command.Command.ParseConfig<typeof options>,
  fleet: typeof import("../fleet.js"),
) =>
  Effect.gen(function* () {
    yield* checkWatchOptions(o)
    if (cliStartExtras(o).notify !== undefined)
      return yield* notOnFleet("start --on-finish/--webhook")
    const limits = yield* startLimits(o)
    const prompt = yield* promptFrom(o.prompt)
    const codexArgs = yield* CodexArgs
    const repoUrl = optional(o.repo)
    const extra = yield* backendExtras(o)
    const slots = yield* fleetMaxRunning(o)
    return yield* fleet.fleetStart(
      {
        prompt,
        title: optional(o.title),
        options: execOptionsOf(o, codexArgs, extra),
        limits,
        repo: repoUrl === undefined ? undefined : { url: repoUrl, ref: optional(o.repoRef) },
        ...(slots === undefined ? {} : { fleetMaxRunning: slots }),
        worktree: worktreeRequest(o),
      },
      optional(o.on),
      o.json,
      o.wait ? "wait" : o.follow ? "follow" : "none",
    )
  })

/** `codex-tasks start`: start a task in the background and print its id. */
export const start = Command.make("start", options, (o) =>
  Effect.zipRight(
    refuseOnFleet(
      o,
      cliStartExtras(o).notify !== undefined ? "start --on-finish/--webhook" : undefined,
    ),
    fleetOr(
      o,
      (fleet) => startOnFleet(o, fleet),
      withTasks(
        Effect.gen(function* () {
          if (Option.isSome(o.on)) {
            return yield* new UsageError({
              message: "--on names a host of a fleet: it needs --cluster.",
            })
          }
          yield* checkWatchOptions(o)
          const limits = yield* startLimits(o)
          const prompt = yield* promptFrom(o.prompt)
          const tasks = yield* Tasks
          const codexArgs = yield* CodexArgs
          const repoUrl = optional(o.repo)
          const extra = yield* backendExtras(o)
          const { id } = yield* tasks.start({
            prompt,
            title: optional(o.title),
            options: execOptionsOf(o, codexArgs, extra),
            repo: repoUrl === undefined ? undefined : { url: repoUrl, ref: optional(o.repoRef) },
            limits,
            ...cliStartExtras(o),
            worktree: worktreeRequest(o),
          })
          if (o.wait) return yield* waitAndReport(id, o.json)
          if (o.follow) {
            yield* printNote(`Task ${id} started.`)
            return yield* followTranscript(id, 0)
          }
          yield* o.json ? printJson({ id }) : printLine(id)
        }),
        o,
        { launches: true },
      ),
    ),
  ),
).pipe(
  Command.withDescription(
    "Start a task in the background and print its id.\n\nExample: codex-tasks start -t 'Fix CI' --working-dir ~/src/app 'Why does CI fail?'\nExample: git diff | codex-tasks start --skip-git-repo-check -\nExample: codex-tasks start 'Summarise the repo' -- --oss --local-provider ollama",
  ),
)
