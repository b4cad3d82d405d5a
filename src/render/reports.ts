import type { ArchiveSummary } from "../tasks/archive.js"
import type { StopReport } from "../tasks/stop.js"

/** What `send` (and `task_send`) says about the prompt; `steer`: it was a `send --steer`. */
export const sendText = (
  receipt: {
    readonly id: string
    readonly status: "started" | "queued" | "joined"
    readonly position?: number | undefined
  },
  steer: boolean,
): string => {
  const task = `Task ${receipt.id}:`
  if (receipt.status === "joined") return `${task} prompt joined the running turn.`
  const noTurn = steer ? " no turn in flight to join;" : ""
  return receipt.status === "started"
    ? `${task}${noTurn} prompt started a new turn.`
    : `${task}${noTurn} prompt queued at position ${receipt.position}.`
}

/** What `approve` / `decline` say once the answer is left for the task (`waiting`: what it waited for). */
export const answerText = (
  id: string,
  decision: "accept" | "acceptForSession" | "decline",
  waiting: string | undefined,
  withMessage: boolean,
): string => {
  if (decision === "decline") {
    return `Task ${id}: declined${withMessage ? "; the message goes to codex" : ""}.`
  }
  if (waiting === "input") return `Task ${id}: answered.`
  return `Task ${id}: approved${decision === "acceptForSession" ? " for the session" : ""}.`
}

/** What `task_approve` / `task_decline` say (the MCP tools' text). */
export const answerToolText = (
  id: string,
  decision: "accept" | "acceptForSession" | "decline",
  waiting: string | undefined,
): string => {
  const said = decision === "decline" ? "declined" : waiting === "input" ? "answered" : "approved"
  return `Task ${id}: ${said}${decision === "acceptForSession" ? " for the session" : ""}.`
}

/** One line of a summary: data for stdout, or a diagnostic for stderr. */
export interface ReportLine {
  readonly text: string
  readonly diagnostic?: boolean
}

/** What `stop` says about each task (and, for `--all`, how many it stopped). */
export const stopLines = (
  reports: ReadonlyArray<StopReport>,
  all: boolean,
): ReadonlyArray<ReportLine> => {
  const lines: Array<ReportLine> = []
  for (const r of reports) {
    if (r.status === "stopped") lines.push({ text: `Task ${r.id} stopped.` })
    else if (r.status === "killed") lines.push({ text: r.message })
    else if (r.status === "unknown") lines.push({ text: r.message, diagnostic: true })
    else if (!all) lines.push({ text: `Task ${r.id} is not running.` })
  }
  if (all) lines.push({ text: `Stopped ${stoppedCount(reports)} task(s).` })
  return lines
}

/** How many of the tasks a stop ended. */
export const stoppedCount = (reports: ReadonlyArray<StopReport>): number =>
  reports.filter((r) => r.status === "stopped" || r.status === "killed").length

/** A named task was not stopped: it was not running, or no such task exists (exit 1). */
export const stopMissedSome = (reports: ReadonlyArray<StopReport>): boolean =>
  reports.some((r) => r.status === "not-running" || r.status === "unknown")

/** What `archive` says about each task (and, for `--all`, the counts). */
export const archiveLines = (summary: ArchiveSummary, all: boolean): ReadonlyArray<string> => {
  const lines: Array<string> = []
  for (const r of summary.reports) {
    if (r.status === "archived") {
      const killed = r.leftoversKilled ?? 0
      // worktree-ignored: tasks/worktree.ts KEPT_IGNORED_DIR (render imports only types of tasks/).
      const kept = r.keptIgnored ?? 0
      lines.push(
        `Task ${r.id} archived to ${r.dir}${killed > 0 ? ` (killed ${killed} leftover process(es) of its last worker first)` : ""}${kept > 0 ? `; ${kept} ignored path(s) of its worktree kept in ${r.dir}/worktree-ignored` : ""}.`,
      )
    } else if (r.status === "skipped") lines.push(`Skipping task ${r.id} (${r.state}).`)
    else lines.push(`Task ${r.id} is already archived in ${r.dir}.`)
  }
  if (all) lines.push(`Archived ${summary.archived} task(s); skipped ${summary.skipped} running.`)
  return lines
}
