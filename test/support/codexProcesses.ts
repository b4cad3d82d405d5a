import { readFileSync } from "node:fs"
import { type CliSandbox, commandLine, processesWithEnv, SANDBOX_MARK_VAR } from "./cli.js"

const isCodexExec = (pid: number) => {
  const cmd = commandLine(pid) ?? ""
  return /(^|\/)codex(\.js)? /.test(cmd) && cmd.includes(" exec ")
}

const parentOf = (pid: number): number | undefined => {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}

/**
 * Live `codex exec` invocations of the sandbox, found by their command line; a codex process
 * whose parent is codex (a fork it makes before running a command) is part of its parent's.
 */
export const codexExecProcesses = (sandbox: CliSandbox) =>
  processesWithEnv(SANDBOX_MARK_VAR, sandbox.mark).filter((pid) => {
    const parent = parentOf(pid)
    return isCodexExec(pid) && (parent === undefined || !isCodexExec(parent))
  })
