import { Schema } from "effect"

/** Sandbox modes `codex exec` understands (`--sandbox` / `sandbox_mode`). */
export const SandboxMode = Schema.Literal("read-only", "workspace-write", "danger-full-access")
/** A sandbox mode. */
export type SandboxMode = typeof SandboxMode.Type

/**
 * Options of one `codex exec` invocation. They are stored with the task and replayed on every
 * resume so that each turn runs with exactly the settings of the first one.
 */
export interface ExecOptions {
  /** Directory codex works in (the spawned process's cwd; `--cd` too for a new thread). */
  readonly workingDir?: string | undefined
  /** A `config.toml` whose directory becomes the invocation's `CODEX_HOME`. */
  readonly configFile?: string | undefined
  /** `-c key=value` overrides, in order. */
  readonly configOverrides?: ReadonlyArray<string> | undefined
  readonly sandbox?: SandboxMode | undefined
  readonly model?: string | undefined
  readonly profile?: string | undefined
  /** Image files attached to the prompt (`-i`). */
  readonly images?: ReadonlyArray<string> | undefined
  readonly skipGitRepoCheck?: boolean | undefined
  /** `--dangerously-bypass-approvals-and-sandbox` (accepted by `exec` and by `exec resume`). */
  readonly bypassApprovalsAndSandbox?: boolean | undefined
  /** Offer the plan tool (`-c tools.update_plan.enabled=true`; older codex called it `--include-plan-tool`). */
  readonly planTool?: boolean | undefined
  /** Raw arguments placed before the prompt (and before `resume`); the caller vouches for them. */
  readonly extraArgs?: ReadonlyArray<string> | undefined
}

/** The snake_case form kept in `task.json` (`exec`). */
export interface StoredExecOptionsShape {
  readonly working_dir?: string | undefined
  readonly config_file?: string | undefined
  readonly config_overrides?: ReadonlyArray<string> | undefined
  readonly sandbox?: string | undefined
  readonly model?: string | undefined
  readonly profile?: string | undefined
  readonly images?: ReadonlyArray<string> | undefined
  readonly skip_git_repo_check?: boolean | undefined
  readonly bypass_approvals_and_sandbox?: boolean | undefined
  readonly plan_tool?: boolean | undefined
  readonly extra_args?: ReadonlyArray<string> | undefined
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

/** Exec options → their stored snake_case form (absent values omitted). */
export const toStoredExecOptions = (o: ExecOptions): StoredExecOptionsShape =>
  defined({
    working_dir: o.workingDir,
    config_file: o.configFile,
    config_overrides: o.configOverrides,
    sandbox: o.sandbox,
    model: o.model,
    profile: o.profile,
    images: o.images,
    skip_git_repo_check: o.skipGitRepoCheck,
    bypass_approvals_and_sandbox: o.bypassApprovalsAndSandbox,
    plan_tool: o.planTool,
    extra_args: o.extraArgs,
  })

const isSandboxMode = Schema.is(SandboxMode)

/**
 * Stored options → exec options. A task written by the Rust tool has no `exec` block: its
 * `working_dir` and `config_path` are used instead.
 */
export const fromStoredExecOptions = (
  stored: StoredExecOptionsShape | undefined,
  legacy: { readonly working_dir?: string | undefined; readonly config_path?: string | undefined },
): ExecOptions =>
  defined({
    workingDir: stored?.working_dir ?? legacy.working_dir,
    configFile: stored?.config_file ?? legacy.config_path,
    configOverrides: stored?.config_overrides,
    sandbox: isSandboxMode(stored?.sandbox) ? stored.sandbox : undefined,
    model: stored?.model,
    profile: stored?.profile,
    images: stored?.images,
    // A task the Rust tool wrote has no `exec` block; its thread already ran in that directory.
    skipGitRepoCheck: stored === undefined ? true : stored.skip_git_repo_check,
    bypassApprovalsAndSandbox: stored?.bypass_approvals_and_sandbox,
    planTool: stored?.plan_tool,
    extraArgs: stored?.extra_args,
  })
