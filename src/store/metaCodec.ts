import { Either, ParseResult, Schema } from "effect"
import { TASK_SCHEMA_VERSION, TaskMeta } from "../domain/task.js"
import { CorruptTask } from "./errors.js"

const decodeMeta = Schema.decodeUnknownEither(TaskMeta)
const encodeMeta = Schema.encodeEither(TaskMeta)

const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, 3)
    .map((issue) => (issue.path.length === 0 ? "" : `${issue.path.join(".")}: `) + issue.message)
    .join("; ")

/** Decodes the text of a `task.json`; anything unusable becomes a `CorruptTask` with the reason. */
export const parseTaskJson = (
  text: string,
  id: string,
  path: string,
): Either.Either<TaskMeta, CorruptTask> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    const reason = text.trim() === "" ? "the file is empty" : `not JSON (${(e as Error).message})`
    return Either.left(new CorruptTask({ id, path, reason }))
  }
  return Either.mapLeft(
    decodeMeta(json),
    (error) => new CorruptTask({ id, path, reason: describeParseError(error) }),
  )
}

/** Pretty JSON of a `task.json` (unknown fields kept; `schema_version` set when absent). */
export const renderTaskJson = (meta: TaskMeta): Either.Either<string, ParseResult.ParseError> =>
  Either.map(
    encodeMeta({ ...meta, schema_version: meta.schema_version ?? TASK_SCHEMA_VERSION }),
    (encoded) => `${JSON.stringify(encoded, null, 2)}\n`,
  )
