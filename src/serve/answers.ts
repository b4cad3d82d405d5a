/**
 * Request bodies of the dashboard's API that may be empty, and the `approve` / `decline` routes'
 * bodies (local and fleet API) as the answers `approve` / `decline` leave.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Schema } from "effect"

/** A body that may be empty (`{}` then); unknown keys refused. */
export const optionalBody = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (req) =>
    Effect.flatMap(req.text, (text) =>
      Schema.decodeUnknown(Schema.parseJson(schema), { onExcessProperty: "error" })(
        text.trim() === "" ? "{}" : text,
      ),
    ),
  )

/** `approve`'s body: for the session too; a request for input's answers, in question order. */
export const ApproveBody = Schema.Struct({
  forSession: Schema.optional(Schema.Boolean),
  answers: Schema.optional(Schema.Array(Schema.String)),
})
/** `decline`'s body: why, sent to codex right after the decline. */
export const DeclineBody = Schema.Struct({ message: Schema.optional(Schema.String) })

/** The answer `approve`'s body gives. */
export const approvalOf = (b: typeof ApproveBody.Type) => ({
  decision: b.forSession === true ? ("acceptForSession" as const) : ("accept" as const),
  ...(b.answers === undefined ? {} : { answers: [...b.answers] }),
})
/** The answer `decline`'s body gives. */
export const declineOf = (b: typeof DeclineBody.Type) => ({
  decision: "decline" as const,
  ...(b.message === undefined || b.message.trim() === "" ? {} : { message: b.message }),
})

/** The answer a `POST /api/tasks/:id/approve` or `/decline` asks for, from its (optional) body. */
export const givenAnswer = (what: "approve" | "decline") =>
  what === "approve"
    ? Effect.map(optionalBody(ApproveBody), approvalOf)
    : Effect.map(optionalBody(DeclineBody), declineOf)
