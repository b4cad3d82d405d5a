/**
 * The JSON API of `serve --cluster` (docs/serve.md "On a fleet"): the local API's routes and
 * answers (api.ts), each done on the task's host through `FleetOps` (cluster/client.ts in
 * serve/fleetMain.ts; a fake in the tests). `apply` is refused: it applies to a checkout on the
 * machine where it is typed, which a dashboard is not.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Chunk, Effect, Option, Schema, Stream } from "effect"
import type { Placed } from "../cluster/client.js"
import type { AnswerRequest, LogChunk, StopResult } from "../cluster/protocol.js"
import { UsageError } from "../domain/exit.js"
import type { DiffJson, SendJson, TaskJson } from "../domain/wire.js"
import { type FleetStart, gateFleetStartRequest, gateFleetTask } from "../gate/fleetGate.js"
import type { GateContext } from "../gate/gate.js"
import { StartInput } from "../gate/startInput.js"
import { archiveLines } from "../render/reports.js"
import type { ArchiveReport } from "../tasks/archive.js"
import type { StopReport } from "../tasks/stop.js"
import { givenAnswer } from "./answers.js"
import { type ApiRefusal, errorResponse, refusalOf } from "./errors.js"

/** The fleet operations the dashboard needs (each a message to a host or one Postgres query). */
export interface FleetOps {
  /** Every host's tasks, newest first (`ls --cluster --json --all`). */
  readonly list: () => Effect.Effect<ReadonlyArray<TaskJson>, unknown>
  readonly resolve: (ref: string) => Effect.Effect<Placed, unknown>
  readonly status: (task: Placed) => Effect.Effect<TaskJson, unknown>
  /** Starts a task on host `on`, else on the least busy live host. */
  readonly start: (on: string | undefined, request: FleetStart) => Effect.Effect<Placed, unknown>
  /** The receipt; `undefined`: the host is down and the prompt is kept until it is back. */
  readonly send: (task: Placed, prompt: string) => Effect.Effect<SendJson | undefined, unknown>
  readonly stop: (task: Placed, timeoutMs: number) => Effect.Effect<typeof StopResult.Type, unknown>
  readonly archive: (task: Placed) => Effect.Effect<ArchiveReport, unknown>
  readonly diff: (task: Placed) => Effect.Effect<DiffJson, unknown>
  /** Answers the request the task waits for, on its host (`approve` / `decline --cluster`). */
  readonly answer: (
    task: Placed,
    answer: Omit<AnswerRequest, "key">,
  ) => Effect.Effect<{ readonly id: string }, unknown>
  readonly logChunk: (
    task: Placed,
    offset: number,
    waitMs: number,
    lastLines: number | undefined,
  ) => Effect.Effect<LogChunk, unknown>
}

/** What the fleet API judges with: the gate's flags, the tasks it started, how to hide secrets. */
export interface FleetApiContext extends GateContext {
  /** Tasks started through this server: they went through its gate (send and diff may use them). */
  readonly startedHere: Set<string>
  /** Takes the fleet URL's password out of a message. */
  readonly redact: (text: string) => string
}

const STOP_TIMEOUT_MS = 30_000
const strict = { onExcessProperty: "error" } as const

const FleetStartBody = Schema.extend(
  StartInput,
  Schema.Struct({
    on: Schema.optional(
      Schema.String.pipe(Schema.minLength(1)).annotations({
        description: "The host to run the task on (default: the least busy live runner).",
      }),
    ),
  }),
)
const SendBody = Schema.Struct({ prompt: Schema.String })

/** The message `POST /api/tasks/:id/apply` answers on a fleet. */
export const APPLY_ON_FLEET =
  "Apply is not available on a fleet's dashboard (serve --cluster): the changes would go to this server's checkout. Run `codex-tasks --cluster URL apply ID` in the checkout you want them in."

const taskRef = Effect.map(HttpRouter.params, (p) => p.id ?? "")
const ok = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

/** A failure as the fleet API answers it: a host that is down or silent is 503; no password. */
export const fleetRefusalOf = (e: unknown, redact: (text: string) => string): ApiRefusal => {
  const tag = typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : ""
  const r = refusalOf(e)
  if (tag === "FleetError") {
    const usage = (e as { usage?: unknown }).usage === true
    return { status: usage ? 400 : 503, message: redact(r.message) }
  }
  if (tag === "SqlError") {
    const cause = (e as { cause?: unknown }).cause
    const detail = typeof cause === "object" && cause !== null && "message" in cause
    return {
      status: 503,
      message: redact(
        `The fleet's PostgreSQL failed: ${detail ? String((cause as { message: unknown }).message) : r.message}`,
      ),
    }
  }
  return { ...r, message: redact(r.message) }
}

/** `approve` / `decline` on the task's host, for a task this server may feed. */
const answer = (ops: FleetOps, ctx: FleetApiContext, what: "approve" | "decline") =>
  Effect.gen(function* () {
    const given = yield* givenAnswer(what)
    const task = yield* ops.resolve(yield* taskRef)
    yield* gateFleetTask(ctx, task, "Answering")
    const { id } = yield* ops.answer(task, given)
    return ok({ id, decision: given.decision, host: task.host })
  })

/** The API routes of `serve --cluster`, on `ops`, judged by `ctx`. */
export const fleetApiRouter = (ops: FleetOps, ctx: FleetApiContext) =>
  HttpRouter.empty.pipe(
    HttpRouter.get(
      "/api/tasks",
      Effect.map(Effect.suspend(ops.list), (tasks) => ok(tasks)),
    ),
    HttpRouter.post(
      "/api/tasks",
      Effect.gen(function* () {
        const { on, ...input } = yield* HttpServerRequest.schemaBodyJson(FleetStartBody, strict)
        const request = yield* gateFleetStartRequest(ctx, input)
        const placed = yield* ops.start(on, request)
        ctx.startedHere.add(placed.id)
        return ok({ id: placed.id, host: placed.host }, 201)
      }),
    ),
    HttpRouter.get(
      "/api/tasks/:id",
      Effect.flatMap(Effect.flatMap(taskRef, ops.resolve), (task) =>
        Effect.map(ops.status(task), (json) => ok(json)),
      ),
    ),
    HttpRouter.post(
      "/api/tasks/:id/prompts",
      Effect.gen(function* () {
        const { prompt } = yield* HttpServerRequest.schemaBodyJson(SendBody, strict)
        const task = yield* ops.resolve(yield* taskRef)
        yield* gateFleetTask(ctx, task, "Sending a prompt to")
        const receipt = yield* ops.send(task, prompt)
        // Host down: the prompt is kept in Postgres and runs once its runner is back.
        if (receipt === undefined) return ok({ id: task.id, status: "accepted" }, 202)
        const { logOffset: _, ...shown } = receipt as SendJson & { readonly logOffset?: number }
        return ok(shown, shown.status === "started" ? 201 : 202)
      }),
    ),
    HttpRouter.post("/api/tasks/:id/approve", answer(ops, ctx, "approve")),
    HttpRouter.post("/api/tasks/:id/decline", answer(ops, ctx, "decline")),
    HttpRouter.post(
      "/api/tasks/:id/stop",
      Effect.gen(function* () {
        const task = yield* ops.resolve(yield* taskRef)
        const r = yield* ops.stop(task, STOP_TIMEOUT_MS)
        if (r.status === "not-running") {
          return errorResponse({ status: 409, message: `Task ${task.id} is not running.` })
        }
        if (r.status === "unknown") return errorResponse({ status: 404, message: r.message })
        const report: StopReport =
          r.status === "stopped"
            ? { id: task.id, status: r.status }
            : { id: task.id, status: r.status, message: r.message }
        return ok({ ...report, host: task.host })
      }),
    ),
    HttpRouter.post(
      "/api/tasks/:id/archive",
      Effect.gen(function* () {
        const task = yield* ops.resolve(yield* taskRef)
        const report = yield* ops.archive(task)
        const archived = report.status === "archived" ? 1 : 0
        const skipped = report.status === "skipped" ? 1 : 0
        const message = archiveLines({ reports: [report], archived, skipped }, false).join("\n")
        if (report.status === "skipped") return errorResponse({ status: 409, message })
        return ok({ ...report, message })
      }),
    ),
    HttpRouter.get(
      "/api/tasks/:id/diff",
      Effect.gen(function* () {
        const task = yield* ops.resolve(yield* taskRef)
        yield* gateFleetTask(ctx, task, "Reading the changes of")
        return ok(yield* ops.diff(task))
      }),
    ),
    HttpRouter.post(
      "/api/tasks/:id/apply",
      Effect.fail(new UsageError({ message: APPLY_ON_FLEET })),
    ),
    HttpRouter.get(
      "/api/tasks/:id/log",
      Effect.gen(function* () {
        const task = yield* ops.resolve(yield* taskRef)
        // The host's task.log, chunk by chunk, byte for byte (as `log --json --cluster`); the
        // first chunk before the answer, so that a host that is down is a 503, not a cut file.
        const first = yield* ops.logChunk(task, 0, 0, undefined)
        const rest = Stream.unfoldChunkEffect(first.next, (offset) =>
          Effect.map(ops.logChunk(task, offset, 0, undefined), (c) =>
            c.bytes.length === 0 ? Option.none() : Option.some([Chunk.of(c.bytes), c.next]),
          ),
        )
        const bytes =
          first.bytes.length === 0 ? Stream.empty : Stream.concat(Stream.make(first.bytes), rest)
        return HttpServerResponse.stream(bytes, {
          contentType: "application/x-ndjson",
          headers: { "content-disposition": `attachment; filename="${task.id}.jsonl"` },
        })
      }),
    ),
    HttpRouter.catchAll((e) => Effect.succeed(errorResponse(fleetRefusalOf(e, ctx.redact)))),
  )
