/**
 * The JSON API (docs/serve.md): each route parses its input, calls the `Tasks` façade (starts and
 * sends through the one gate, gate/), and answers with the CLI's own JSON encoders (domain/wire.ts).
 */
import { createReadStream, existsSync } from "node:fs"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Schema } from "effect"
import type { ApplyJson } from "../domain/wire.js"
import { fromStoredExecOptions } from "../exec/options.js"
import { type GateContext, gateRead } from "../gate/gate.js"
import { gatedAnswer, gatedSend, gatedStart } from "../gate/gatedTasks.js"
import { StartInput } from "../gate/startInput.js"
import { archiveLines } from "../render/reports.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks } from "../tasks/Tasks.js"
import { changesJson } from "../tasks/taskDiff.js"
import { viewJson } from "../tasks/view.js"
import { readWorktree } from "../tasks/worktree.js"
import { withChanges } from "../tasks/worktreeView.js"
import { givenAnswer, optionalBody } from "./answers.js"
import { errorResponse, refusalOf } from "./errors.js"

const STOP_TIMEOUT_MS = 30_000
const strict = { onExcessProperty: "error" } as const

const SendBody = Schema.Struct({ prompt: Schema.String })
const ApplyBody = Schema.Struct({ commit: Schema.optional(Schema.Boolean) })
const taskRef = Effect.map(HttpRouter.params, (p) => p.id ?? "")

const ok = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

/** The task `ref` names, as `status --json ID` prints it. */
const statusOf = (ref: string) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const loc = yield* tasks.resolve(ref, { includeArchived: true })
    const { views, broken } = yield* tasks.select({ _tag: "Ids", refs: [loc.id] })
    const view = views[0]
    if (view === undefined) {
      return errorResponse({ status: 500, message: broken[0]?.message ?? `No task ${ref}.` })
    }
    const [full] = yield* withChanges(yield* TaskStore, [view])
    return ok(viewJson(full ?? view))
  })

/** Refuses, as MCP `task_diff` does, a task working outside the directories the server may use. */
const readGate = (ctx: GateContext, ref: string) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(ref, { includeArchived: true })
    const meta = yield* store.read(loc)
    yield* gateRead(ctx, loc.id, fromStoredExecOptions(meta.exec, meta), readWorktree(loc.dir))
    return loc
  })

/** `approve` / `decline` of the task the route names, through the gate. */
const answer = (ctx: GateContext, what: "approve" | "decline") =>
  Effect.gen(function* () {
    const given = yield* givenAnswer(what)
    const { id } = yield* gatedAnswer(ctx, yield* taskRef, given, what)
    return ok({ id, decision: given.decision })
  })

/** The API routes, judged by `ctx` (the server's --allow-unsafe and --allow-dir). */
export const apiRouter = (ctx: GateContext) =>
  HttpRouter.empty.pipe(
    HttpRouter.get(
      "/api/tasks",
      Effect.map(Tasks.pipe(Effect.flatMap((t) => t.list({ includeArchived: true }))), (l) =>
        ok(l.views.map(viewJson)),
      ),
    ),
    HttpRouter.post(
      "/api/tasks",
      Effect.gen(function* () {
        const input = yield* HttpServerRequest.schemaBodyJson(StartInput, strict)
        const { id } = yield* gatedStart(ctx, input)
        return ok({ id }, 201)
      }),
    ),
    HttpRouter.get("/api/tasks/:id", Effect.flatMap(taskRef, statusOf)),
    HttpRouter.post(
      "/api/tasks/:id/prompts",
      Effect.gen(function* () {
        const { prompt } = yield* HttpServerRequest.schemaBodyJson(SendBody, strict)
        const { logOffset: _, ...receipt } = yield* gatedSend(ctx, yield* taskRef, prompt)
        return ok(receipt, receipt.status === "started" ? 201 : 202)
      }),
    ),
    HttpRouter.post("/api/tasks/:id/approve", answer(ctx, "approve")),
    HttpRouter.post("/api/tasks/:id/decline", answer(ctx, "decline")),
    HttpRouter.post(
      "/api/tasks/:id/stop",
      Effect.gen(function* () {
        const [report] = yield* (yield* Tasks).stop([yield* taskRef], {
          afterTurn: false,
          timeoutMs: STOP_TIMEOUT_MS,
        })
        if (report === undefined || report.status === "unknown") {
          return errorResponse({ status: 404, message: report?.message ?? "No such task." })
        }
        if (report.status === "not-running") {
          return errorResponse({ status: 409, message: `Task ${report.id} is not running.` })
        }
        return ok(report)
      }),
    ),
    HttpRouter.post(
      "/api/tasks/:id/archive",
      Effect.gen(function* () {
        const summary = yield* (yield* Tasks).archive([yield* taskRef])
        const report = summary.reports[0]
        const message = archiveLines(summary, false).join("\n")
        if (report?.status === "skipped") return errorResponse({ status: 409, message })
        return ok({ ...report, message })
      }),
    ),
    HttpRouter.get(
      "/api/tasks/:id/diff",
      Effect.gen(function* () {
        const loc = yield* readGate(ctx, yield* taskRef)
        const { id, changes } = yield* (yield* Tasks).changes(loc.id, {
          color: false,
          patch: true,
        })
        return ok(changesJson(id, changes, false))
      }),
    ),
    HttpRouter.post(
      "/api/tasks/:id/apply",
      Effect.gen(function* () {
        const { commit } = yield* optionalBody(ApplyBody)
        const loc = yield* readGate(ctx, yield* taskRef)
        const { id, applied: r } = yield* (yield* Tasks).applyChanges(loc.id, commit === true)
        const files = r._tag === "Applied" ? r.files : []
        return ok({ id, dir: r.record.repo, files, committed: r.committed } satisfies ApplyJson)
      }),
    ),
    HttpRouter.get(
      "/api/tasks/:id/log",
      Effect.gen(function* () {
        const store = yield* TaskStore
        const loc = yield* store.resolve(yield* taskRef, { includeArchived: true })
        const path = store.logPath(loc)
        // Streamed from the file: a log of any size costs one buffer, not its size.
        return HttpServerResponse.raw(existsSync(path) ? createReadStream(path) : "", {
          contentType: "application/x-ndjson",
          headers: { "content-disposition": `attachment; filename="${loc.id}.jsonl"` },
        })
      }),
    ),
    HttpRouter.catchAll((e) => Effect.succeed(errorResponse(refusalOf(e)))),
  )
