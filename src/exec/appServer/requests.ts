/**
 * The requests `codex app-server` sends its client and waits on (protocol of codex 0.169,
 * `ServerRequest` of `app-server generate-ts`) → our `ApprovalRequest`, and our `ApprovalReply` →
 * the answer each method expects. A request we do not serve is answered with a JSON-RPC error.
 */
import type { ApprovalReply, ApprovalRequest, InputQuestion } from "../CodexExec.js"

const isRec = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const text = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

const strings = (u: unknown): ReadonlyArray<string> =>
  Array.isArray(u) ? u.filter((s): s is string => typeof s === "string") : []

/** The methods of the requests codex waits on a person for. */
export const ASKING_METHODS = [
  "item/commandExecution/requestApproval",
  "item/fileChange/requestApproval",
  "item/permissions/requestApproval",
  "item/tool/requestUserInput",
  "mcpServer/elicitation/request",
] as const

/** `network`, `read <path>`, `write <path>`: what a permissions request asks for, in one list. */
const permissionsOf = (profile: unknown): ReadonlyArray<string> => {
  if (!isRec(profile)) return []
  const asked: Array<string> = []
  if (isRec(profile.network) && profile.network.enabled === true) asked.push("network")
  const fs = isRec(profile.fileSystem) ? profile.fileSystem : {}
  for (const access of ["read", "write"] as const) {
    for (const path of strings(fs[access])) asked.push(`${access} ${path}`)
  }
  for (const entry of Array.isArray(fs.entries) ? fs.entries : []) {
    if (!isRec(entry) || !isRec(entry.path)) continue
    const where = text(entry.path.path) ?? text(entry.path.pattern) ?? text(entry.path.value)
    if (where !== undefined && typeof entry.access === "string")
      asked.push(`${entry.access} ${where}`)
  }
  return asked
}

/** The choices an elicitation field offers (enum values, `oneOf` consts, booleans). */
const fieldOptions = (field: Record<string, unknown>): ReadonlyArray<string> | undefined => {
  if (field.type === "boolean") return ["true", "false"]
  if (Array.isArray(field.enum)) return strings(field.enum)
  if (Array.isArray(field.oneOf)) {
    return field.oneOf.flatMap((o) => (isRec(o) && typeof o.const === "string" ? [o.const] : []))
  }
  if (isRec(field.items)) return fieldOptions(field.items)
  return undefined
}

/** An MCP elicitation's form fields as questions (a URL or unknown form: none). */
const elicitationQuestions = (p: Record<string, unknown>): ReadonlyArray<InputQuestion> => {
  if (p.mode === "url" || !isRec(p.requestedSchema)) return []
  const properties = isRec(p.requestedSchema.properties) ? p.requestedSchema.properties : {}
  return Object.entries(properties).flatMap(([id, field]) => {
    if (!isRec(field)) return []
    const options = fieldOptions(field)
    const question = text(field.description) ?? text(field.title) ?? id
    return [{ id, question, header: text(field.title), options, other: options === undefined }]
  })
}

/** A request of the protocol → ours (undefined: not one a person answers). */
export const approvalOf = (
  message: { readonly method: string; readonly params: unknown },
  files: ReadonlyMap<string, ReadonlyArray<string>>,
): ApprovalRequest | undefined => {
  const p = isRec(message.params) ? message.params : {}
  switch (message.method) {
    case "item/commandExecution/requestApproval":
      return { kind: "command", command: text(p.command), cwd: text(p.cwd), reason: text(p.reason) }
    case "item/fileChange/requestApproval": {
      const itemId = text(p.itemId)
      return {
        kind: "file_change",
        files: itemId === undefined ? undefined : files.get(itemId),
        reason: text(p.reason),
      }
    }
    case "item/permissions/requestApproval":
      return {
        kind: "permission",
        permissions: permissionsOf(p.permissions),
        cwd: text(p.cwd),
        reason: text(p.reason),
      }
    case "item/tool/requestUserInput": {
      const questions = (Array.isArray(p.questions) ? p.questions : []).flatMap((q) => {
        if (!isRec(q) || typeof q.id !== "string") return []
        const options = Array.isArray(q.options)
          ? q.options.flatMap((o) => (isRec(o) && typeof o.label === "string" ? [o.label] : []))
          : undefined
        return [
          {
            id: q.id,
            question: text(q.question) ?? q.id,
            header: text(q.header),
            options,
            other: q.isOther === true || options === undefined || options.length === 0,
          },
        ]
      })
      return { kind: "input", questions }
    }
    case "mcpServer/elicitation/request":
      return {
        kind: "input",
        server: text(p.serverName),
        reason: [text(p.message), p.mode === "url" ? text(p.url) : undefined]
          .filter((s) => s !== undefined)
          .join(" "),
        questions: elicitationQuestions(p),
      }
    default:
      return undefined
  }
}

/** An answer to an elicitation field, typed as its schema says (number, boolean, list). */
const fieldValue = (field: unknown, answer: string): unknown => {
  if (!isRec(field)) return answer
  if (field.type === "boolean") return /^(true|yes|y|1)$/i.test(answer.trim())
  if (field.type === "number" || field.type === "integer") {
    const n = Number(answer)
    return Number.isFinite(n) ? n : answer
  }
  if (field.type === "array") return answer.split(",").map((s) => s.trim())
  return answer
}

/** What `method` expects as the answer to `reply` (`params`: the request's). */
export const responseOf = (method: string, params: unknown, reply: ApprovalReply): unknown => {
  const p = isRec(params) ? params : {}
  const yes = reply.decision !== "decline"
  switch (method) {
    case "item/permissions/requestApproval": {
      // Granted: what was asked (its unset parts left out); declined: nothing.
      const asked = isRec(p.permissions) ? p.permissions : {}
      const granted = Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== null))
      return {
        permissions: yes ? granted : {},
        scope: reply.decision === "acceptForSession" ? "session" : "turn",
      }
    }
    case "item/tool/requestUserInput": {
      if (!yes) return { answers: {} }
      const ids = (Array.isArray(p.questions) ? p.questions : []).flatMap((q) =>
        isRec(q) && typeof q.id === "string" ? [q.id] : [],
      )
      const given = reply.answers ?? []
      return {
        answers: Object.fromEntries(
          ids.flatMap((id, k) => (given[k] === undefined ? [] : [[id, { answers: [given[k]] }]])),
        ),
      }
    }
    case "mcpServer/elicitation/request": {
      if (!yes) return { action: "decline", content: null, _meta: null }
      const schema = isRec(p.requestedSchema) ? p.requestedSchema : {}
      const properties = isRec(schema.properties) ? schema.properties : {}
      const given = reply.answers ?? []
      const content =
        p.mode === "url"
          ? null
          : Object.fromEntries(
              Object.entries(properties).flatMap(([id, field], k) =>
                given[k] === undefined ? [] : [[id, fieldValue(field, given[k])]],
              ),
            )
      return { action: "accept", content, _meta: null }
    }
    default:
      // Commands and file changes: the decision itself.
      return { decision: reply.decision }
  }
}
