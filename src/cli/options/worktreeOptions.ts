import { Options } from "@effect/cli"
import { Option } from "effect"
import type { WorktreeRequest } from "../../tasks/worktree.js"

/** `start --worktree [--base REF] [--branch NAME]` (spread into `start`'s options). */
export const worktreeOptions = {
  worktree: Options.boolean("worktree").pipe(
    Options.withDescription(
      "Run the task in a new git worktree of the working directory's repository (kept in the store).",
    ),
  ),
  base: Options.text("base").pipe(
    Options.withDescription("With --worktree: the commit the worktree starts from (default HEAD)."),
    Options.optional,
  ),
  branch: Options.text("branch").pipe(
    Options.withDescription(
      "With --worktree: the new branch (default codex-tasks/<first 8 of the id>).",
    ),
    Options.optional,
  ),
}

/** The worktree request of `start`'s parsed options (undefined without `--worktree`). */
export const worktreeRequest = (o: {
  readonly worktree: boolean
  readonly base: Option.Option<string>
  readonly branch: Option.Option<string>
}): WorktreeRequest | undefined =>
  o.worktree
    ? { base: Option.getOrUndefined(o.base), branch: Option.getOrUndefined(o.branch) }
    : undefined
