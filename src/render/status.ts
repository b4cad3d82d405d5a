import { type TaskOutcome, type TaskWaiting, waitsForAnswer } from "../domain/task.js"
import type { TaskView } from "../tasks/view.js"
import { oneLine, stripControls } from "./sanitize.js"
import type { Style } from "./style.js"
import { dash, renderTable, sanitizeCell } from "./table.js"
import { formatTime, type TimeFormat } from "./time.js"

const grouped = (n: number) => n.toLocaleString("en-US")
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s)

/** One line saying why a task is in its state. */
export const describeOutcome = (o: TaskOutcome | undefined): string => {
  if (o === undefined) return "-"
  switch (o.kind) {
    case "completed":
      return "completed"
    case "interrupted":
      return `interrupted${o.message === undefined ? "" : ` (${oneLine(o.message)})`}`
    case "failed":
      return `failed: ${oneLine(o.error_class)}: ${oneLine(o.message)}`.trimEnd()
    case "worker_lost":
      return "worker lost (the worker process ended without finishing the task)"
    case "timed_out":
      return `timed out${o.message === undefined ? "" : ` (${oneLine(o.message)})`}`
    case "budget_exhausted":
      return `token budget spent${o.message === undefined ? "" : ` (${oneLine(o.message)})`}`
  }
}

/** What a running task waits for, e.g. "for a usage limit to reset (until …)". */
export const describeWaiting = (w: TaskWaiting, timeFormat: TimeFormat): string => {
  if (w.for === "approval" || w.for === "permission" || w.for === "input") {
    const r = w.request
    const questions = (r?.questions ?? []).map((q) =>
      q.options === undefined || q.options.length === 0
        ? q.question
        : `${q.question} [${q.options.join("|")}]`,
    )
    const asked =
      r?.command ??
      r?.files?.join(", ") ??
      (r?.permissions !== undefined && r.permissions.length > 0
        ? r.permissions.join(", ")
        : undefined) ??
      (questions.length > 0 ? questions.join("; ") : undefined)
    if (asked === undefined) return `for ${w.for}: ${oneLine(r?.reason ?? r?.kind ?? "a request")}`
    const reason = r?.reason === undefined || r.reason === "" ? "" : ` (${oneLine(r.reason)})`
    return `for ${w.for}: ${oneLine(asked)}${reason}`
  }
  const what = w.for === "slot" ? "for a run slot (--max-running)" : "for the usage limit to reset"
  return w.until === undefined ? what : `${what}, until ${formatTime(w.until, timeFormat)}`
}

const stateText = (state: string, style: Style) =>
  state === "RUNNING"
    ? style.cyan(state)
    : state === "DIED"
      ? style.red(state)
      : state === "STOPPED"
        ? style.green(state)
        : style.dim(state)

/**
 * The human `status` block: the Rust tool's labels in its order (`Task ID:` … `Last Result:`),
 * then what we know beyond it.
 */
export const renderStatus = (v: TaskView, timeFormat: TimeFormat, style: Style): string => {
  const lines: Array<string> = [`${style.bold("Task ID:")} ${v.loc.id}`]
  const text = (s: string | undefined) => (s === undefined ? dash : stripControls(s))
  if (v.meta.title !== undefined) lines.push(`Title: ${oneLine(v.meta.title)}`)
  lines.push(`State: ${stateText(v.state, style)}`)
  lines.push(`Created At: ${formatTime(v.meta.created_at, timeFormat)}`)
  lines.push(`Updated At: ${formatTime(v.meta.updated_at, timeFormat)}`)
  lines.push(
    `Working Dir: ${v.meta.working_dir === undefined ? dash : oneLine(v.meta.working_dir)}`,
  )
  if (v.pid !== undefined) lines.push(`PID: ${v.pid}`)
  lines.push(`Last Prompt: ${text(v.meta.last_prompt)}`)
  lines.push(`Last Result: ${text(v.lastResult)}`)
  lines.push(`Outcome: ${describeOutcome(v.outcome)}`)
  const waiting = v.state === "RUNNING" ? v.meta.waiting : undefined
  if (waiting !== undefined) lines.push(`Waiting: ${describeWaiting(waiting, timeFormat)}`)
  if (v.workerStderr !== undefined) lines.push(`Worker Stderr: ${v.workerStderr}`)
  if (v.queued > 0) lines.push(`Queued Prompts: ${v.queued}`)
  if ((v.meta.dropped_prompts ?? 0) > 0) lines.push(`Dropped Prompts: ${v.meta.dropped_prompts}`)
  const left = v.leftovers ?? []
  if (left.length > 0) {
    lines.push(
      `Leftover Processes: ${left.length} still running from its last worker (\`codex-tasks stop ${v.loc.id}\` ends them)`,
    )
    for (const p of left) lines.push(`  ${p.pid} ${clip(oneLine(p.command) || "?", 100)}`)
  }
  if (v.worktree !== undefined) {
    lines.push(
      `Worktree: ${oneLine(v.worktree.path)} (branch ${oneLine(v.worktree.branch)}, base ${v.worktree.base.slice(0, 12)}, ${v.worktree.changedFiles} file(s) changed)`,
    )
  }
  if ((v.lastTurnFiles ?? []).length > 0) {
    lines.push(`Last Turn Files: ${(v.lastTurnFiles ?? []).map(oneLine).join(", ")}`)
  }
  lines.push(`Turns: ${v.meta.turns ?? 0}`)
  const u = v.meta.usage
  if (u !== undefined) {
    lines.push(
      `Tokens: ${grouped(u.input_tokens)} input (${grouped(u.cached_input_tokens)} cached, ${grouped(u.cache_write_input_tokens ?? 0)} cache write), ${grouped(u.output_tokens)} output (${grouped(u.reasoning_output_tokens)} reasoning)`,
    )
  }
  if (v.loc.archived) lines.push(`Archived In: ${oneLine(v.loc.dir)}`)
  return lines.join("\n")
}

/** The `ls` table: `ID  Title  State  Created At  Updated At  Working Dir`, `-` for missing values. */
export const renderTaskTable = (views: ReadonlyArray<TaskView>, timeFormat: TimeFormat): string =>
  renderTable(
    ["ID", "Title", "State", "Created At", "Updated At", "Working Dir"],
    views.map((v) => [
      v.loc.id,
      v.meta.title === undefined || sanitizeCell(v.meta.title) === "" ? dash : v.meta.title,
      // A task waiting for an answer to codex's request is marked: someone has to act.
      v.state === "RUNNING" && waitsForAnswer(v.meta.waiting)
        ? `RUNNING (${v.meta.waiting?.for})`
        : v.state,
      formatTime(v.meta.created_at, timeFormat),
      formatTime(v.meta.updated_at, timeFormat),
      v.meta.working_dir ?? dash,
    ]),
  )
