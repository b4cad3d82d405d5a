import { spawnSync } from "node:child_process"

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
}

/** Runs `git args` in `cwd` as a test's fixed author; its trimmed stdout, or throws with stderr. */
export const git = (cwd: string, ...args: Array<string>): string => {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", env })
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed (${r.status}): ${r.stderr}`)
  return r.stdout.trim()
}
