/**
 * Exec options → how `codex app-server` is started and what its `thread/start`, `thread/resume`
 * and `turn/start` carry, with the same meaning as the `codex exec` flags they stand for
 * (`exec/argv.ts`). What the protocol cannot express is refused (`appServerRefusals`), never
 * silently dropped.
 */
import type { ExecOptions } from "../options.js"

/** Why `options` cannot run on the app-server backend (empty: they can). */
export const appServerRefusals = (options: ExecOptions): ReadonlyArray<string> => {
  const refusals: Array<string> = []
  if (options.approvalTimeoutMs !== undefined && options.approvals !== "ask") {
    refusals.push("`--approval-timeout` needs `--approvals ask`")
  }
  if (options.approvals === "ask" && options.bypassApprovalsAndSandbox) {
    refusals.push(
      "`--approvals ask` and `--dangerously-bypass-approvals-and-sandbox` contradict each other",
    )
  }
  if ((options.extraArgs ?? []).length > 0) {
    refusals.push(
      "raw codex exec arguments after `--` cannot be given to `codex app-server`; use `-c key=value` overrides or `--backend exec`",
    )
  }
  if (options.profile !== undefined) {
    refusals.push(
      "`--profile` cannot be given to `codex app-server` (it has no --profile and rejects `-c profile=…`); use `--backend exec`",
    )
  }
  return refusals
}

/**
 * Process-level arguments after `app-server`: config overrides, the plan tool, extra writable
 * directories and features (the same `-c` and `--enable`/`--disable` exec takes).
 */
export const processArgs = (options: ExecOptions): Array<string> => {
  const args: Array<string> = []
  if (options.planTool) args.push("-c", "tools.update_plan.enabled=true")
  for (const override of options.configOverrides ?? []) args.push("-c", override)
  if ((options.addDirs ?? []).length > 0) {
    const roots = (options.addDirs ?? []).map((d) => JSON.stringify(d)).join(", ")
    args.push("-c", `sandbox_workspace_write.writable_roots=[${roots}]`)
  }
  for (const feature of options.enableFeatures ?? []) args.push("--enable", feature)
  for (const feature of options.disableFeatures ?? []) args.push("--disable", feature)
  return args
}

/**
 * `-c projects={…}` marking the task's directories trusted for this process only. A `thread/start`
 * with a writable sandbox otherwise records the project as trusted in the user's config.toml (seen
 * with codex 0.169); an override already saying so leaves the file alone, and the session is
 * trusted exactly as codex would have made it.
 */
export const trustArgs = (dirs: ReadonlyArray<string>): Array<string> => {
  const unique = [...new Set(dirs)]
  if (unique.length === 0) return []
  const table = unique.map((d) => `${JSON.stringify(d)}={trust_level="trusted"}`).join(",")
  return ["-c", `projects={${table}}`]
}

/** The approval policy a task's turns run with (`never`: exec's, the default). */
export type ApprovalPolicy = "never" | "untrusted"

/** The thread settings of `thread/start` and `thread/resume`. */
export const threadParams = (options: ExecOptions): Record<string, unknown> => {
  const approvals: ApprovalPolicy = options.approvals === "ask" ? "untrusted" : "never"
  const params: Record<string, unknown> = { approvalPolicy: approvals }
  if (options.workingDir !== undefined) params.cwd = options.workingDir
  if (options.model !== undefined) params.model = options.model
  if (options.bypassApprovalsAndSandbox) {
    params.sandbox = "danger-full-access"
    params.approvalPolicy = "never"
  } else if (options.sandbox !== undefined) params.sandbox = options.sandbox
  return params
}

/** The `input` of a turn: the prompt, and the images of a new thread's first prompt (as `-i`). */
export const turnInput = (
  prompt: string,
  images: ReadonlyArray<string>,
): ReadonlyArray<Record<string, unknown>> => [
  { type: "text", text: prompt, text_elements: [] },
  ...images.map((path) => ({ type: "localImage", path })),
]
