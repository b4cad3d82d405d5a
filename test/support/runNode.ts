import { spawn } from "node:child_process"

/**
 * Runs `script` with this Node and resolves to what a user sees of it: exit code (or signal),
 * stdout and stderr, in one text (killed after 30 s).
 */
export const runNode = (
  script: string,
  args: ReadonlyArray<string>,
  options: { readonly env: NodeJS.ProcessEnv; readonly cwd: string },
) =>
  new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (c) => (out += c))
    child.stderr.on("data", (c) => (err += c))
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve(`exit ${code ?? signal}\n--- stdout\n${out}--- stderr\n${err}`)
    })
  })
