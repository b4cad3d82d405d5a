import { Schema } from "effect"

/**
 * A line the worker may write on its handshake pipe before the handshake itself: a start whose
 * codex invocation waits for a run slot says so (the task does not exist yet, so nothing in the
 * store can show it).
 */
export const WorkerNotice = Schema.TaggedStruct("Waiting", {
  for: Schema.Literal("slot"),
  /** Invocations ahead of this one that hold or wait for a slot. */
  ahead: Schema.Number,
  /** The `--max-running` limit the worker runs under. */
  limit: Schema.Number,
})
/** A notice before the handshake. */
export type WorkerNotice = typeof WorkerNotice.Type

/** Decodes a line as a notice (none when it is the handshake, or anything else). */
export const decodeNotice = Schema.decodeUnknownOption(Schema.parseJson(WorkerNotice))

/** The one line `start` prints on stderr while its first invocation waits for a slot. */
export const noticeText = (n: WorkerNotice): string =>
  `codex-tasks: waiting for a run slot (${n.ahead} invocation${n.ahead === 1 ? "" : "s"} ahead, --max-running ${n.limit})`
