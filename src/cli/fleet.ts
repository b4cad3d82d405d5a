/**
 * The commands with `--cluster URL` (or `CODEX_TASKS_CLUSTER`): the same commands, on the whole
 * fleet, through `cluster/client.ts`. Loaded only in that case (commands import it dynamically;
 * the built CLI has it only in dist/bin/cluster.cjs).
 */
import { Effect, Layer, Option } from "effect"
import {
  answerOn,
  archiveOn,
  archiveReportOf,
  changesOf,
  type EngineWhen,
  fleetLayer,
  listFleet,
  logChunkOf,
  type Placed,
  pickHost,
  requireLiveHost,
  resolveTask,
  sendTo,
  startOn,
  statusOf,
  stopOn,
  waitTurnOn,
  warmEngine,
} from "../cluster/client.js"
import { fleetChecks } from "../cluster/doctor.js"
import { CHUNK_BYTES } from "../cluster/logChunk.js"
import type { AnswerRequest, StartRequest } from "../cluster/protocol.js"
import { ExitCode, ExitWith } from "../domain/exit.js"
import type { TaskState } from "../domain/task.js"
import type { ApplyJson, TaskJson } from "../domain/wire.js"
import type { Backend } from "../exec/options.js"
import { patchText, statText } from "../render/changes.js"
import { renderFleetStatus, renderFleetTable } from "../render/fleet.js"
import { renderLogLine } from "../render/longLine.js"
import { answerText, archiveLines, sendText, stopLines, stopMissedSome } from "../render/reports.js"
import { describeOutcome } from "../render/status.js"
import { colorEnabled } from "../render/style.js"
import type { TimeFormat } from "../render/time.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import type { ArchiveReport } from "../tasks/archive.js"
import type { StopReport } from "../tasks/stop.js"
import { applyPatchTo } from "../tasks/taskDiff.js"
import { reportChecks } from "./commands/doctor.js"

export { fleetWait } from "./fleetWait.js"

import { Printer, printJson, printLine, printNote, stdoutStyle } from "./Printer.js"
import { fleetFailure } from "./runtime.js"

const messageOf = (e: unknown) =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
    ? e.message
    : String(e)

/** What a fleet command runs with: the engine's client, Postgres, the printer. */
export type FleetContext = Layer.Layer.Success<ReturnType<typeof fleetLayer>> | Printer

/**
 * Runs a fleet command against `url`: the engine's client, Postgres, and the printer of the
 * context. Postgres failures name the URL without its password; a runner's usage error stays one.
 */
export const onFleet = <A, E>(
  url: string,
  program: Effect.Effect<A, E, FleetContext>,
  engine: EngineWhen = "now",
): Effect.Effect<A, unknown> =>
  Effect.gen(function* () {
    const printer = Option.getOrElse(yield* Effect.serviceOption(Printer), () => undefined)
    const output = printer === undefined ? Printer.layer : Layer.succeed(Printer, printer)
    return yield* Effect.provide(program, Layer.merge(fleetLayer(url, engine), output))
  }).pipe(Effect.catchAll(fleetFailure(url)))

/**
 * `start --cluster`: places the task (on `on`, else the least busy live host) and prints its id;
 * `wait`: waits for its first turn instead (as a local `start --wait`); `follow`: streams its log.
 */
export const fleetStart = (
  request: StartRequest,
  on: string | undefined,
  json: boolean,
  watch: "none" | "wait" | "follow" = "none",
) =>
  Effect.gen(function* () {
    // The engine's client comes up while Postgres picks the host.
    const [host] = yield* Effect.all([pickHost(on), warmEngine], { concurrency: 2 })
    const placed = yield* startOn(host, request)
    if (watch === "wait") return yield* waitAndReport(placed, undefined, json)
    if (watch === "follow") {
      yield* printNote(`Task ${placed.id} started.`)
      return yield* fleetLog(placed.id, {
        json: false,
        follow: "while-running",
        lastLines: undefined,
        full: false,
      })
    }
    yield* json ? printJson(placed) : printLine(placed.id)
  })

/**
 * `--wait` over the fleet: waits for the turn on the task's host, prints its final message (or
 * the task as JSON), and exits 3 when the turn gave no answer (local mode's `waitAndReport`).
 */
const waitAndReport = (task: Placed, seq: number | undefined, json: boolean) =>
  Effect.gen(function* () {
    const end = yield* waitTurnOn(task, seq)
    const t = end.task
    if (json) yield* printJson(t)
    else if (t.last_result !== null && t.outcome?.kind === "completed") {
      yield* printLine(t.last_result)
    }
    if (!end.answered) {
      return yield* new ExitWith({
        code: ExitCode.TaskFailed,
        message: end.dropped
          ? `task ${t.id}: the prompt was dropped by a stop before it ran`
          : `task ${t.id} ${t.state}: ${describeOutcome(t.outcome ?? undefined)}`,
      })
    }
  })

/** `send --cluster`: returns once the prompt is queued on its host (or persisted, host down). */
export const fleetSend = (
  ref: string,
  prompt: string,
  maxTokens: number | undefined,
  json: boolean,
  watch: "none" | "wait" | "follow" = "none",
  fleetMaxRunning?: number | undefined,
  turn: { readonly steer: boolean; readonly backend?: Backend | undefined } = { steer: false },
) =>
  Effect.gen(function* () {
    // The engine's client comes up while Postgres finds the task.
    const [task] = yield* Effect.all([resolveTask(ref), warmEngine], { concurrency: 2 })
    // Waiting and following need the host: refused before the prompt is sent.
    if (watch !== "none") yield* requireLiveHost(task, "watch")
    // Following starts where the log ends now (its last 0 lines): the prompt's entry comes next.
    const from = watch === "follow" ? (yield* logChunkOf(task, 0, 0, 0)).next : undefined
    const receipt = yield* sendTo(task, prompt, maxTokens, fleetMaxRunning, turn)
    if (watch === "wait" && receipt !== undefined) {
      return yield* waitAndReport(task, receipt.seq, json)
    }
    if (from !== undefined && receipt !== undefined) {
      return yield* fleetLog(task.id, {
        json: false,
        follow: "while-running",
        lastLines: undefined,
        full: false,
        from,
      })
    }
    if (receipt === undefined) {
      if (json) return yield* printJson({ id: task.id, status: "accepted" })
      return yield* printLine(
        `Task ${task.id}: prompt accepted; host ${task.host} has no live runner, it runs when the runner is back.`,
      )
    }
    if (json) return yield* printJson(receipt)
    yield* printLine(
      sendText(
        { ...receipt, status: receipt.status === "accepted" ? "queued" : receipt.status },
        turn.steer,
      ),
    )
  })

/**
 * `approve` / `decline --cluster`: leaves the answer to the request the task waits for on its
 * host (as the local command does there) and says the same.
 */
export const fleetAnswer = (ref: string, answer: Omit<AnswerRequest, "key">) =>
  Effect.gen(function* () {
    const [task] = yield* Effect.all([resolveTask(ref), warmEngine], { concurrency: 2 })
    const { id, waiting } = yield* answerOn(task, answer)
    yield* printLine(answerText(id, answer.decision, waiting, answer.message !== undefined))
  })

/** `ls --cluster`: every live host's tasks, newest first, with a HOST column. */
export const fleetList = (
  includeArchived: boolean,
  states: ReadonlyArray<TaskState>,
  json: boolean,
  timeFormat: TimeFormat,
) =>
  Effect.gen(function* () {
    const tasks = yield* listFleet(includeArchived)
    const shown = states.length === 0 ? tasks : tasks.filter((t) => states.includes(t.state))
    if (json) return yield* printJson(shown)
    yield* printLine(shown.length === 0 ? "No tasks found." : renderFleetTable(shown, timeFormat))
  })

/** `status --cluster`: the named tasks (or all of them), each from its host. */
export const fleetStatus = (
  refs: ReadonlyArray<string> | "all" | "running",
  json: boolean,
  timeFormat: TimeFormat,
) =>
  Effect.gen(function* () {
    let shown: Array<TaskJson>
    let failed = false
    if (refs === "all" || refs === "running") {
      const tasks = yield* listFleet(false)
      shown = refs === "all" ? tasks : tasks.filter((t) => t.state === "RUNNING")
    } else {
      shown = []
      for (const ref of refs) {
        const result = yield* Effect.either(Effect.flatMap(resolveTask(ref), statusOf))
        if (result._tag === "Right") shown.push(result.right)
        else {
          failed = true
          yield* printNote(`codex-tasks: ${messageOf(result.left)}`)
        }
      }
    }
    const single = refs !== "all" && refs !== "running" && refs.length === 1
    if (json) {
      if (single && shown[0] !== undefined) yield* printJson(shown[0])
      else if (!single) yield* printJson(shown)
    } else if (shown.length > 0) {
      yield* printLine(shown.map((t) => renderFleetStatus(t, timeFormat)).join("\n\n"))
    } else if (!failed) yield* printLine("No tasks found.")
    if (failed) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
  })

const NEWLINE = Buffer.from("\n")

/**
 * `log --cluster`: the task's transcript from its host, in chunks; `follow` keeps asking while
 * the task runs (`forever`: until interrupted). The bytes are the host's `task.log`'s.
 */
export const fleetLog = (
  ref: string,
  o: {
    readonly json: boolean
    readonly follow: "none" | "while-running" | "forever"
    readonly lastLines: number | undefined
    readonly full: boolean
    /** Start at this byte of the log (instead of its start or its last lines). */
    readonly from?: number
  },
) =>
  Effect.gen(function* () {
    const task: Placed = yield* resolveTask(ref)
    const printer = yield* Printer
    const renderer = makeTranscriptRenderer({ style: stdoutStyle(), full: o.full })
    const emit = (lines: ReadonlyArray<Buffer>) => {
      if (lines.length === 0) return Effect.void
      if (o.json) return printer.write(Buffer.concat(lines.flatMap((l) => [l, NEWLINE])))
      let text = ""
      for (const l of lines) {
        const rendered = renderLogLine(renderer, l, task.id)
        if (rendered !== "") text += rendered.endsWith("\n") ? rendered : `${rendered}\n`
      }
      return text === "" ? Effect.void : printer.write(text)
    }
    let offset = o.from ?? 0
    let first = true
    let partial = Buffer.alloc(0)
    let running = true
    for (;;) {
      const waitMs = o.follow === "none" || first ? 0 : 5_000
      const lastLines = first && o.from === undefined ? o.lastLines : undefined
      const chunk = yield* logChunkOf(task, offset, waitMs, lastLines)
      first = false
      offset = chunk.next
      running = chunk.running
      const data = Buffer.concat([partial, Buffer.from(chunk.bytes)])
      const lines: Array<Buffer> = []
      let start = 0
      for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
        lines.push(data.subarray(start, i))
        start = i + 1
      }
      partial = Buffer.from(data.subarray(start))
      yield* emit(lines)
      if (chunk.bytes.length >= CHUNK_BYTES) continue
      if (chunk.bytes.length > 0) continue
      if (o.follow === "none" || (o.follow === "while-running" && !running)) break
    }
    // A last line without its newline (a torn write) is shown once the task no longer writes.
    if (partial.length > 0 && !running) yield* emit([partial])
    if (!o.json) {
      const pending = renderer.pending(!running)
      if (pending !== "") yield* printer.write(pending.endsWith("\n") ? pending : `${pending}\n`)
    }
  })

/** `stop --cluster`: stops each named task on its host. */
export const fleetStop = (refs: ReadonlyArray<string>, afterTurn: boolean, timeoutMs: number) =>
  Effect.gen(function* () {
    const reports: Array<StopReport> = []
    for (const ref of refs) {
      const result = yield* Effect.either(
        Effect.flatMap(resolveTask(ref), (task) =>
          Effect.map(stopOn(task, afterTurn, timeoutMs), (r) => ({ task, r })),
        ),
      )
      if (result._tag === "Left") {
        reports.push({ id: ref, status: "unknown", message: messageOf(result.left) })
        continue
      }
      const { task, r } = result.right
      reports.push(
        r.status === "stopped" || r.status === "not-running"
          ? { id: task.id, status: r.status }
          : { id: task.id, status: r.status, message: r.message },
      )
    }
    for (const line of stopLines(reports, false)) {
      yield* line.diagnostic === true
        ? printNote(`codex-tasks: ${line.text}`)
        : printLine(line.text)
    }
    if (stopMissedSome(reports)) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
  })

/** `archive --cluster`: archives each named task on its host. */
export const fleetArchive = (refs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const reports: Array<ArchiveReport> = []
    let failed = false
    for (const ref of refs) {
      const result = yield* Effect.either(
        Effect.flatMap(resolveTask(ref), (task) =>
          Effect.map(archiveOn(task), (r) => ({ task, r })),
        ),
      )
      if (result._tag === "Left") {
        failed = true
        yield* printNote(`codex-tasks: ${messageOf(result.left)}`)
        continue
      }
      const { task, r } = result.right
      reports.push(archiveReportOf(task, r))
    }
    const archived = reports.filter((r) => r.status === "archived").length
    const summary = { reports, archived, skipped: reports.length - archived }
    for (const line of archiveLines(summary, false)) yield* printLine(line)
    if (failed) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
  })

/** `diff --cluster`: what the task changed, computed on its host (the same text and JSON as locally). */
export const fleetDiff = (ref: string, o: { readonly json: boolean; readonly stat: boolean }) =>
  Effect.gen(function* () {
    const task = yield* resolveTask(ref)
    const color = !o.json && !o.stat && colorEnabled(process.stdout, process.env)
    const { diff } = yield* changesOf(task, color, !o.stat)
    if (o.json) return yield* printJson(diff)
    const shown = { ...diff, touched: diff.touched ?? [], patch: diff.patch ?? "" }
    if (o.stat) return yield* printLine(statText(shown))
    yield* Effect.flatMap(Printer, (p) => p.write(patchText(shown)))
  })

/**
 * `apply --cluster`: the worktree task's changes, computed on its host, applied to the checkout
 * of the current directory on this machine (three ways, as a local `apply`).
 */
export const fleetApply = (ref: string, commit: boolean, json: boolean) =>
  Effect.gen(function* () {
    const task = yield* resolveTask(ref)
    const { diff, title } = yield* changesOf(task, false, true)
    const applied = yield* applyPatchTo(
      process.cwd(),
      {
        id: task.id,
        title: title ?? undefined,
        host: task.host,
        base: diff.worktree?.base,
        patch: diff.patch ?? "",
      },
      commit,
    )
    const files = applied._tag === "Applied" ? applied.files : []
    if (json) {
      const shown: ApplyJson = {
        id: diff.id,
        dir: applied.repo,
        files,
        committed: applied.committed,
      }
      return yield* printJson(shown)
    }
    if (files.length === 0) return yield* printLine(`Task ${task.id} changed nothing to apply.`)
    yield* printLine(
      `Applied ${files.length} file(s) of task ${task.id} to ${applied.repo}${applied.committed ? " and committed them" : ""}:\n${files.join("\n")}`,
    )
  })

/** `mcp --cluster`: the MCP server over the fleet (its code loads only now). */
export const fleetMcp = (options: import("../mcp/fleetServer.js").FleetServeOptions) =>
  Effect.flatMap(
    Effect.promise(() => import("../mcp/fleetServer.js")),
    (m) => m.serveFleetStdio(options),
  )

/** `serve --cluster`: the dashboard over the fleet (its code loads only now). */
export const fleetServe = (
  request: import("../serve/main.js").ServeRequest & { readonly url: string },
) =>
  Effect.flatMap(
    Effect.promise(() => import("../serve/fleetMain.js")),
    (m) => m.runFleetServe(request),
  )

/** `doctor --cluster`: the fleet's checks (docs/cluster.md "Health"). */
export const fleetDoctor = (json: boolean) =>
  Effect.flatMap(fleetChecks, (checks) => reportChecks(checks, json))
