/**
 * Synthetic `task.log` entries written next to codex's own events. `user_message` and `stderr`
 * are the Rust tool's; the others are ours (the Rust tool ignores unknown types).
 */

const line = (entry: Record<string, unknown>): string => `${JSON.stringify(entry)}\n`
const now = () => new Date().toISOString()

/** The prompt, written before the events of its invocation. */
export const userMessage = (message: string): string =>
  line({ type: "user_message", message, at: now() })

/** One line codex wrote on stderr. */
export const stderrLine = (message: string): string => line({ type: "stderr", message })

/** A retryable failure about to be retried after `delayMs`. */
export const retryEntry = (e: {
  readonly attempt: number
  readonly maxRetries: number
  readonly delayMs: number
  readonly errorClass: string
  readonly message: string
}): string =>
  line({
    type: "retry",
    attempt: e.attempt,
    max_retries: e.maxRetries,
    delay_ms: e.delayMs,
    error_class: e.errorClass,
    message: e.message,
    at: now(),
  })

/** An invocation that failed for good. */
export const invocationFailed = (errorClass: string, message: string, retryable: boolean): string =>
  line({ type: "invocation_failed", error_class: errorClass, message, retryable, at: now() })

/** Queued prompts that were discarded (kept here, not lost); `reason` when it was not a stop. */
export const promptsDropped = (prompts: ReadonlyArray<string>, reason?: string): string =>
  line({
    type: "prompts_dropped",
    count: prompts.length,
    prompts,
    ...(reason === undefined ? {} : { reason }),
    at: now(),
  })

/** Something the worker did or saw (stop requested, interrupted, worker error, ...). */
export const workerNote = (message: string): string => line({ type: "worker", message, at: now() })
