/**
 * The bodies of the dashboard's `approve` and `decline` routes (local and fleet API), as the
 * answers `approve` / `decline` leave.
 */
import { Schema } from "effect"

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
