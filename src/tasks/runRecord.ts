import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { killMarked } from "../exec/processTree.js"
import { writeFileAtomic } from "../store/atomic.js"

/** File naming the process marker of the task's current worker (see `exec/processTree.ts`). */
export const RUN_FILE = "run.json"

/** Records the marker that every codex process of this worker carries. */
export const writeRunRecord = (dir: string, runId: string) =>
  writeFileAtomic(join(dir, RUN_FILE), `${JSON.stringify({ run_id: runId })}\n`)

/** The marker of the task's last worker, if recorded. */
export const readRunRecord = (dir: string): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, RUN_FILE), "utf8"))
    const runId = (parsed as { run_id?: unknown }).run_id
    return typeof runId === "string" ? runId : undefined
  } catch {
    return undefined
  }
}

/** Kills every process left by the task's last worker (after that worker was lost). */
export const killLeftovers = (dir: string): Effect.Effect<number> =>
  Effect.sync(() => {
    const runId = readRunRecord(dir)
    return runId === undefined ? 0 : killMarked(runId)
  })
