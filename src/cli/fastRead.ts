/**
 * The fast read path: `ls` and `status` in their everyday forms (`readArgs.ts`), run without
 * @effect/cli, through the same programs, layers and exit codes as the command tree
 * (`cli/commands/showTaskList.ts`, `cli/commands/showStatus.ts`). The launcher picks it (dist/bin/read.cjs).
 */
import { Effect, Layer, Option } from "effect"
import { ExitCode } from "../domain/exit.js"
import { setFaultRole } from "../store/faults.js"
import { showStatus } from "./commands/showStatus.js"
import { showTaskList } from "./commands/showTaskList.js"
import { exitCodeOf, runAsProcess } from "./process.js"
import type { ReadArgs, ReadGlobals } from "./readArgs.js"
import { type LocalGlobals, RootGlobals, withTasks } from "./runtime.js"

const localGlobals = (g: ReadGlobals): LocalGlobals => ({
  storeRoot: Option.fromNullable(g.storeRoot),
  codexBin: Option.fromNullable(g.codexBin),
  maxRunning: Option.fromNullable(g.maxRunning),
})

/** The command `read` names, resolving to its exit code (as `main` in Cli.ts does). */
export const fastRead = (read: ReadArgs) => {
  const r = read.request
  const local = localGlobals(read.after)
  const program =
    r.command === "ls"
      ? withTasks(showTaskList(r), local)
      : withTasks(showStatus({ ...r, timeout: Option.fromNullable(r.timeout) }), local)
  return program.pipe(
    Effect.provideService(RootGlobals, localGlobals(read.before)),
    Effect.as(ExitCode.Ok as number),
    Effect.catchAllCause(exitCodeOf),
  )
}

/** Runs the fast read `read` as the process. */
export const runFastRead = (read: ReadArgs): void => {
  setFaultRole("cli")
  runAsProcess(fastRead(read), Layer.empty)
}
