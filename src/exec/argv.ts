import type { ExecOptions } from "./options.js"

/**
 * Argument vectors for `codex exec`. The prompt never appears here: argv carries `-` and the text
 * goes to stdin (argv leaks into `ps`, is limited to 128 KiB per element, and a prompt starting with
 * `-` would parse as a flag).
 */

const common = (options: ExecOptions, outputLastMessage: string): Array<string> => {
  const argv = ["--json", "--output-last-message", outputLastMessage]
  if (options.skipGitRepoCheck) argv.push("--skip-git-repo-check")
  if (options.bypassApprovalsAndSandbox) argv.push("--dangerously-bypass-approvals-and-sandbox")
  if (options.model !== undefined) argv.push("--model", options.model)
  if (options.profile !== undefined) argv.push("--profile", options.profile)
  if (options.planTool) argv.push("-c", "tools.update_plan.enabled=true")
  for (const override of options.configOverrides ?? []) argv.push("-c", override)
  if (options.outputSchema !== undefined) argv.push("--output-schema", options.outputSchema)
  for (const feature of options.enableFeatures ?? []) argv.push("--enable", feature)
  for (const feature of options.disableFeatures ?? []) argv.push("--disable", feature)
  return argv
}

/** argv (without the binary) for the first prompt of a new thread. */
export const newThreadArgv = (options: ExecOptions, outputLastMessage: string): Array<string> => {
  const argv = ["exec", ...common(options, outputLastMessage)]
  // Images belong to the first prompt; a resume does not send them again.
  for (const image of options.images ?? []) argv.push("--image", image)
  if (options.workingDir !== undefined) argv.push("--cd", options.workingDir)
  if (options.sandbox !== undefined) argv.push("--sandbox", options.sandbox)
  for (const dir of options.addDirs ?? []) argv.push("--add-dir", dir)
  argv.push(...(options.extraArgs ?? []))
  argv.push("-")
  return argv
}

/**
 * argv (without the binary) for a later prompt: `codex exec resume <thread_id> -`. `resume` rejects
 * `--cd` and `--sandbox`, so the working directory comes from the process cwd (the exec client spawns codex there) and
 * the sandbox from a `-c sandbox_mode=...` override, which `resume` accepts.
 */
export const resumeArgv = (
  threadId: string,
  options: ExecOptions,
  outputLastMessage: string,
): Array<string> => {
  const argv = ["exec", ...common(options, outputLastMessage)]
  if (options.sandbox !== undefined) argv.push("-c", `sandbox_mode="${options.sandbox}"`)
  // `resume` rejects --add-dir; the same setting as a config key (a TOML array of strings).
  if ((options.addDirs ?? []).length > 0) {
    const roots = (options.addDirs ?? []).map((d) => JSON.stringify(d)).join(", ")
    argv.push("-c", `sandbox_workspace_write.writable_roots=[${roots}]`)
  }
  // Before `resume`, codex parses them as `exec` options and applies them to the resumed session
  // (checked with codex 0.169: `--oss` there switches the resumed turn's provider).
  argv.push(...(options.extraArgs ?? []))
  argv.push("resume", threadId, "-")
  return argv
}
