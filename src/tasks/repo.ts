import { spawn } from "node:child_process"
import { existsSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { RepoCloneFailed } from "./errors.js"

const git = (args: ReadonlyArray<string>, cwd?: string) =>
  Effect.async<string, RepoCloneFailed>((resume) => {
    // argv only, never a shell; git's output is kept for the error message, never printed.
    const child = spawn("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.once("error", (e) =>
      resume(Effect.fail(new RepoCloneFailed({ message: `cannot run git: ${e.message}` }))),
    )
    child.once("close", (code) =>
      code === 0
        ? resume(Effect.succeed(output))
        : resume(
            Effect.fail(
              new RepoCloneFailed({
                message: `git ${args[0]} failed (exit ${code}): ${output.trim().split("\n").slice(-3).join(" ")}`,
              }),
            ),
          ),
    )
  })

/**
 * Clones `url` into `dir` (which must not exist yet) and checks out `ref` when given, fetching it
 * only if the clone does not have it. `dir` may exist if it is empty. A failed clone leaves nothing
 * behind (a directory that existed before is emptied, not removed).
 */
export const cloneRepo = (url: string, dir: string, ref: string | undefined) => {
  const existed = existsSync(dir)
  const cleanUp = () => {
    if (!existed) rmSync(dir, { recursive: true, force: true })
    else
      for (const entry of readdirSync(dir))
        rmSync(join(dir, entry), { recursive: true, force: true })
  }
  if (existed && readdirSync(dir).length > 0) {
    return Effect.fail(
      new RepoCloneFailed({ message: `--working-dir ${dir} exists and is not empty` }),
    )
  }
  return Effect.gen(function* () {
    yield* git(["clone", "--quiet", "--", url, dir])
    if (ref !== undefined) {
      const have = yield* git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], dir).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false),
      )
      if (!have) yield* git(["fetch", "--quiet", "origin", "--", ref], dir)
      yield* git(["checkout", "--quiet", have ? ref : "FETCH_HEAD", "--"], dir)
    }
  }).pipe(Effect.tapError(() => Effect.sync(cleanUp)))
}
