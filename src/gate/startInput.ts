/**
 * What starting a task asks for, from a client that is not the command line (MCP `task_start`,
 * `serve`'s `POST /api/tasks`): the CLI's `start` options in camelCase, one Schema for both.
 * Notifications (`onFinish`, `webhook`) are refused without --allow-unsafe, since they run
 * commands or send data out.
 */
import { Schema } from "effect"
import { MAX_DURATION_MS } from "../domain/duration.js"
import type { TaskNotify } from "../domain/notify.js"
import { Backend, type ExecOptions, SandboxMode } from "../exec/options.js"

/** A described string argument. */
export const text = (description: string) => Schema.String.annotations({ description })
/** A described boolean argument. */
export const flag = (description: string) => Schema.Boolean.annotations({ description })
const texts = (description: string) => Schema.Array(Schema.String).annotations({ description })
const nonEmpty = (description: string) =>
  Schema.String.pipe(Schema.minLength(1)).annotations({ description })

/** The `task_start` arguments for notifications (spread into `StartInput`). */
export const notifyArgFields = {
  onFinish: Schema.optional(
    Schema.String.annotations({
      description:
        "When the task leaves RUNNING, run this with sh -c in its working directory; the task is in CODEX_TASKS_TASK_ID, _TITLE, _STATE, _OUTCOME, _RESULT_FILE, _LOG_FILE (refused unless the server runs with --allow-unsafe).",
    }),
  ),
  webhook: Schema.optional(
    Schema.String.annotations({
      description:
        "When the task leaves RUNNING, POST its id, state, outcome and result as JSON to this http(s) URL (refused unless the server runs with --allow-unsafe).",
    }),
  ),
}

/** The notification arguments a server without --allow-unsafe refuses, by name. */
export const notifyRefused = (a: {
  readonly onFinish?: string | undefined
  readonly webhook?: string | undefined
}): Array<string> => [
  ...(a.onFinish !== undefined ? ["onFinish"] : []),
  ...(a.webhook !== undefined ? ["webhook"] : []),
]

/** The arguments as the task's stored notifications. */
export const notifyOfArgs = (a: {
  readonly onFinish?: string | undefined
  readonly webhook?: string | undefined
}): TaskNotify | undefined =>
  a.onFinish === undefined && a.webhook === undefined
    ? undefined
    : {
        ...(a.onFinish === undefined ? {} : { on_finish: a.onFinish }),
        ...(a.webhook === undefined ? {} : { webhook: a.webhook }),
      }

/** `task_start` arguments: the CLI's `start` options in camelCase (`StartArgs` is its zod). */
export const StartInput = Schema.Struct({
  prompt: nonEmpty("The first prompt."),
  title: Schema.optional(text("A title for the task.")),
  workingDir: Schema.optional(
    text(
      "Directory codex works in (relative paths: from the server's directory); without --allow-unsafe it must lie in the server's directory or an --allow-dir one.",
    ),
  ),
  configFile: Schema.optional(
    text(
      "A config.toml; its directory becomes CODEX_HOME for this task (refused unless the server runs with --allow-unsafe).",
    ),
  ),
  repoUrl: Schema.optional(
    text(
      "Clone this git repository into workingDir first (without --allow-unsafe: a local path inside the allowed directories, or a network address under an --allow-repo one).",
    ),
  ),
  repoRef: Schema.optional(text("Branch, tag or commit to check out after repoUrl.")),
  model: Schema.optional(Schema.String),
  sandbox: Schema.optional(
    SandboxMode.annotations({
      description: 'Sandbox mode for commands ("danger-full-access" only with --allow-unsafe).',
    }),
  ),
  profile: Schema.optional(
    text("A profile of codex's config.toml (refused unless the server runs with --allow-unsafe)."),
  ),
  config: Schema.optional(
    texts(
      "codex config overrides, each key=value (refused unless the server runs with --allow-unsafe).",
    ),
  ),
  skipGitRepoCheck: Schema.optional(flag("Allow running outside a git repository.")),
  images: Schema.optional(
    texts(
      "Image files attached to the prompt (without --allow-unsafe: inside the allowed directories).",
    ),
  ),
  planTool: Schema.optional(flag("Offer codex its plan tool.")),
  backend: Schema.optional(
    Backend.annotations({
      description:
        'Which codex program runs the turns: "exec" (default) or "app-server" (one warm process per task).',
    }),
  ),
  approvals: Schema.optional(
    Schema.Literal("never", "ask").annotations({
      description:
        'App-server tasks: "ask" makes codex ask before commands it does not know to be safe; the task waits until task_approve or task_decline answers (default "never").',
    }),
  ),
  approvalTimeoutSeconds: Schema.optional(
    Schema.Number.pipe(
      Schema.int(),
      Schema.greaterThanOrEqualTo(1),
      Schema.lessThanOrEqualTo(MAX_DURATION_MS / 1_000),
    ).annotations({
      description:
        'With approvals "ask": decline a request nobody answered within this many seconds (default: wait).',
    }),
  ),
  dangerouslyBypassApprovalsAndSandbox: Schema.optional(
    flag("No sandbox, no approvals (refused unless the server runs with --allow-unsafe)."),
  ),
  worktree: Schema.optional(
    Schema.Struct({
      base: Schema.optional(text("The commit the worktree starts from (default HEAD).")),
      branch: Schema.optional(text("The new branch (default codex-tasks/<first 8 of the id>).")),
    }).annotations({
      description:
        "Run the task in a new git worktree of the repository containing workingDir, kept in the store, on a new branch ({} for the defaults); see what it changed with task_diff.",
    }),
  ),
  extraArgs: Schema.optional(
    texts(
      "Raw codex exec options, each one argument (--name or --name=value), replayed on every resume (refused unless the server runs with --allow-unsafe).",
    ),
  ),
  ...notifyArgFields,
})

/** A start request, decoded. */
export type StartInput = typeof StartInput.Type

/** The exec options of a start request (`test/mcp/schemas.test.ts` checks they are all of them). */
export const execOptionsOf = (a: StartInput): ExecOptions => ({
  workingDir: a.workingDir,
  configFile: a.configFile,
  configOverrides: a.config,
  sandbox: a.sandbox,
  model: a.model,
  profile: a.profile,
  images: a.images,
  skipGitRepoCheck: a.skipGitRepoCheck,
  bypassApprovalsAndSandbox: a.dangerouslyBypassApprovalsAndSandbox,
  planTool: a.planTool,
  extraArgs: a.extraArgs,
  backend: a.backend,
  approvals: a.approvals,
  approvalTimeoutMs:
    a.approvalTimeoutSeconds === undefined ? undefined : a.approvalTimeoutSeconds * 1_000,
})
