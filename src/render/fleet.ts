/** Text for a fleet's tasks (`--cluster`): the `ls` table with a HOST column, a status block. */
import type { TaskJson } from "../domain/wire.js"
import { oneLine, stripControls } from "./sanitize.js"
import { describeOutcome, describeWaiting } from "./status.js"
import { dash, renderTable, sanitizeCell } from "./table.js"
import { formatTime, type TimeFormat } from "./time.js"

/** What a task's state reads as: its state, or that its host is gone since when. */
export const fleetState = (t: TaskJson, timeFormat: TimeFormat): string =>
  t.host_lost_since === undefined
    ? t.state
    : `${t.state} (host unreachable since ${formatTime(t.host_lost_since, timeFormat)})`

/** `ls --cluster`: `ID  Title  State  Host  Created At  Updated At  Working Dir`. */
export const renderFleetTable = (tasks: ReadonlyArray<TaskJson>, timeFormat: TimeFormat): string =>
  renderTable(
    ["ID", "Title", "State", "Host", "Created At", "Updated At", "Working Dir"],
    tasks.map((t) => [
      t.id,
      t.title === null || sanitizeCell(t.title) === "" ? dash : t.title,
      fleetState(t, timeFormat),
      t.host ?? dash,
      formatTime(t.created_at, timeFormat),
      formatTime(t.updated_at, timeFormat),
      t.working_dir ?? dash,
    ]),
  )

/** `status --cluster` of one task: the local block's labels, with `Host:` after the state. */
export const renderFleetStatus = (t: TaskJson, timeFormat: TimeFormat): string => {
  const text = (s: string | null) => (s === null ? dash : stripControls(s))
  const lines = [`Task ID: ${t.id}`]
  if (t.title !== null) lines.push(`Title: ${oneLine(t.title)}`)
  lines.push(`State: ${fleetState(t, timeFormat)}`)
  lines.push(`Host: ${t.host ?? dash}`)
  lines.push(`Created At: ${formatTime(t.created_at, timeFormat)}`)
  lines.push(`Updated At: ${formatTime(t.updated_at, timeFormat)}`)
  lines.push(`Working Dir: ${t.working_dir === null ? dash : oneLine(t.working_dir)}`)
  if (t.pid !== null) lines.push(`PID: ${t.pid}`)
  lines.push(`Last Prompt: ${text(t.last_prompt)}`)
  lines.push(`Last Result: ${text(t.last_result)}`)
  lines.push(`Outcome: ${describeOutcome(t.outcome ?? undefined)}`)
  if (t.state === "RUNNING" && t.waiting !== null) {
    lines.push(`Waiting: ${describeWaiting(t.waiting, timeFormat)}`)
  }
  if (t.queued_prompts > 0) lines.push(`Queued Prompts: ${t.queued_prompts}`)
  if (t.dropped_prompts > 0) lines.push(`Dropped Prompts: ${t.dropped_prompts}`)
  lines.push(`Turns: ${t.turns}`)
  return lines.join("\n")
}
