import { Effect } from "effect"
import { UsageError } from "../../domain/exit.js"
import { globalsWith, type LocalGlobals } from "../runtime.js"

/**
 * A fleet command's `--max-running` (or `CODEX_TASKS_MAX_RUNNING`): the fleet-wide limit the
 * tasks it launches carry (undefined: none); a bad value is a usage error, as in local mode.
 */
export const fleetMaxRunning = (local: LocalGlobals) =>
  Effect.flatMap(globalsWith(local), (g) =>
    g.maxRunningProblem === undefined
      ? Effect.succeed(g.maxRunning)
      : Effect.fail(new UsageError({ message: g.maxRunningProblem })),
  )
