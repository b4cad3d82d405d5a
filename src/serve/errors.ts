import * as HttpServerResponse from "@effect/platform/HttpServerResponse"

/** An API answer that is not a success: the HTTP status and the message the CLI would print. */
export interface ApiRefusal {
  readonly status: 400 | 401 | 403 | 404 | 409 | 500 | 503
  readonly message: string
}

/** A JSON error body `{"error": message}` with `status`. */
export const errorResponse = (r: ApiRefusal) =>
  HttpServerResponse.unsafeJson({ error: r.message }, { status: r.status })

const hasMessage = (e: unknown): e is { readonly message: string } =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"

// Bad input (the CLI's usage errors and what decoding a body refuses), an unknown task, a task in
// the wrong state for the request (including a refused apply, with git's conflicting paths).
const BAD_INPUT = new Set([
  "UsageError",
  "AmbiguousTaskId",
  "BadPath",
  "ParseError",
  "RequestError",
  "RepoCloneFailed",
])
const WRONG_STATE = new Set(["InvalidTaskState", "WorktreeRefused", "TaskExists"])

/** The refusal a failure of the façade (or of decoding the request) answers with. */
export const refusalOf = (e: unknown): ApiRefusal => {
  const tag = typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : ""
  const message = hasMessage(e) ? e.message : String(e)
  if (tag === "TaskNotFound") return { status: 404, message }
  if (BAD_INPUT.has(tag)) {
    return {
      status: 400,
      message: tag === "RequestError" ? "The body is not valid JSON." : message,
    }
  }
  if (WRONG_STATE.has(tag)) return { status: 409, message }
  return { status: 500, message }
}
