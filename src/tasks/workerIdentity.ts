import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Option, Schema } from "effect"
import { WORKER_JSON } from "../store/layout.js"
import { ProcessIdentity } from "../store/processIdentity.js"

const decode = Schema.decodeUnknownOption(Schema.parseJson(ProcessIdentity))

/** The identity recorded in the task's `worker.json`, if any. */
export const readWorkerIdentity = (dir: string): ProcessIdentity | undefined => {
  try {
    return Option.getOrUndefined(decode(readFileSync(join(dir, WORKER_JSON), "utf8")))
  } catch {
    return undefined
  }
}
