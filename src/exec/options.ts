import { Schema } from "effect"

/** Sandbox modes `codex exec` understands (`--sandbox` / `sandbox_mode`). */
export const SandboxMode = Schema.Literal("read-only", "workspace-write", "danger-full-access")
/** A sandbox mode. */
export type SandboxMode = typeof SandboxMode.Type

/** Which codex program runs a task's turns: `codex exec` (one process a turn) or `codex app-server`. */
export const Backend = Schema.Literal("exec", "app-server")
/** A codex backend. */
export type Backend = typeof Backend.Type

/** The backend of stored options: absent (every task before this field, the Rust tool's) is exec. */
export const backendOf = (options: { readonly backend?: Backend | undefined }): Backend =>
  options.backend ?? "exec"

const optional = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.optional(schema).pipe(Schema.fromKey(key))
const Strings = Schema.Array(Schema.String)

/**
 * Options of one `codex exec` invocation, camelCase in code and snake_case encoded: the form kept
 * in `task.json` (`exec`) and sent to a worker over its pipe. They are stored with the task and
 * replayed on every resume so that each turn runs with exactly the settings of the first one.
 */
export const ExecOptions = Schema.Struct({
  /** Directory codex works in (the spawned process's cwd; `--cd` too for a new thread). */
  workingDir: optional(Schema.String, "working_dir"),
  /** A `config.toml` whose directory becomes the invocation's `CODEX_HOME`. */
  configFile: optional(Schema.String, "config_file"),
  /** `-c key=value` overrides, in order. */
  configOverrides: optional(Strings, "config_overrides"),
  sandbox: optional(SandboxMode, "sandbox"),
  model: optional(Schema.String, "model"),
  profile: optional(Schema.String, "profile"),
  /** Image files attached to the prompt (`-i`). */
  images: optional(Strings, "images"),
  skipGitRepoCheck: optional(Schema.Boolean, "skip_git_repo_check"),
  /** `--dangerously-bypass-approvals-and-sandbox` (accepted by `exec` and by `exec resume`). */
  bypassApprovalsAndSandbox: optional(Schema.Boolean, "bypass_approvals_and_sandbox"),
  /** Offer the plan tool (`-c tools.update_plan.enabled=true`; older codex called it `--include-plan-tool`). */
  planTool: optional(Schema.Boolean, "plan_tool"),
  /** A JSON Schema file the final answer must follow (`--output-schema`; `resume` accepts it). */
  outputSchema: optional(Schema.String, "output_schema"),
  /** More writable directories (`--add-dir`; replayed on resume as `sandbox_workspace_write.writable_roots`). */
  addDirs: optional(Strings, "add_dirs"),
  /** Features turned on / off (`--enable` / `--disable`; `resume` accepts both). */
  enableFeatures: optional(Strings, "enable_features"),
  disableFeatures: optional(Strings, "disable_features"),
  /** `start ... -- ARGS`: raw exec options before the `-` prompt (and before `resume`); `exec/extraArgs.ts` checks them. */
  extraArgs: optional(Strings, "extra_args"),
  /** The backend every turn runs on (absent: exec); `send --backend` changes it for later turns. */
  backend: optional(Backend, "backend"),
  /** `--approvals ask` (app-server): codex asks before commands it does not know to be safe. */
  approvals: optional(Schema.Literal("never", "ask"), "approvals"),
  /** `--approval-timeout`: a request not answered this long is declined (absent: wait). */
  approvalTimeoutMs: optional(Schema.Number, "approval_timeout_ms"),
})
/** Options of one `codex exec` invocation. */
export type ExecOptions = typeof ExecOptions.Type
/** Their stored snake_case form (`task.json` `exec`, the worker pipe). */
export type StoredExecOptionsShape = typeof ExecOptions.Encoded

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

/** Exec options → their stored snake_case form (absent values omitted). */
export const toStoredExecOptions = (o: ExecOptions): StoredExecOptionsShape =>
  defined(Schema.encodeSync(ExecOptions)(o))

const decodeField = Schema.decodeUnknownOption(ExecOptions)

/**
 * Stored options → exec options. A value of the wrong type (a sandbox mode this version does not
 * know) is dropped, never fatal. A task written by the Rust tool has no `exec` block: its
 * `working_dir` and `config_path` are used instead.
 */
export const fromStoredExecOptions = (
  stored: Readonly<Record<string, unknown>> | undefined,
  legacy: { readonly working_dir?: string | undefined; readonly config_path?: string | undefined },
): ExecOptions => {
  // Field by field: one bad value costs that field only.
  const options: ExecOptions = Object.assign(
    {},
    ...Object.entries(stored ?? {}).map(([k, v]) => {
      const one = decodeField({ [k]: v })
      return one._tag === "Some" ? one.value : {}
    }),
  )
  return defined({
    ...options,
    workingDir: options.workingDir ?? legacy.working_dir,
    configFile: options.configFile ?? legacy.config_path,
    // A task the Rust tool wrote has no `exec` block; its thread already ran in that directory.
    skipGitRepoCheck: stored === undefined ? true : options.skipGitRepoCheck,
  })
}
