import { randomUUID } from "node:crypto"
import { writeFileSync } from "node:fs"
import { Deferred, type Duration, Effect, Exit, Fiber, Layer, Mailbox } from "effect"
import {
  CodexExec,
  type ExecOutput,
  type ExecRequest,
  type ExecRun,
  eventsOf,
} from "../exec/CodexExec.js"
import { classify } from "../exec/classify.js"
import { decodeLine, type ExecLine } from "../exec/decode.js"

/** One step of a scripted run. */
export type FakeStep =
  /** A stdout event; `thread.started` without `thread_id` gets the run's thread id. */
  | { readonly event: Record<string, unknown> }
  /** A raw stdout line, printed as given (it need not be JSON). */
  | { readonly line: string }
  | { readonly stderr: string }
  | { readonly delay: Duration.DurationInput }

/** A scripted `codex exec` run. */
export interface FakeScript {
  readonly steps: ReadonlyArray<FakeStep>
  /** Thread id to report (default: the resumed id, or a fresh UUID). */
  readonly threadId?: string | undefined
  /** Exit code (default 0 when the script printed `turn.completed`, else 1). */
  readonly exitCode?: number | undefined
  /** Signal the fake "died" of instead of exiting. */
  readonly signal?: string | undefined
  /** Fail to spawn with this errno code (e.g. "ENOENT"). */
  readonly spawnError?: string | undefined
}

/** Ready-made scripts. */
export const FakeScripts = {
  /** A turn that answers `text` (with the usage codex would report). */
  reply: (text: string, options: { readonly delay?: Duration.DurationInput } = {}): FakeScript => ({
    steps: [
      { event: { type: "thread.started" } },
      { event: { type: "turn.started" } },
      ...(options.delay === undefined ? [] : [{ delay: options.delay }]),
      { event: { type: "item.completed", item: { id: "item_0", type: "agent_message", text } } },
      {
        event: {
          type: "turn.completed",
          usage: {
            input_tokens: 100,
            cached_input_tokens: 0,
            output_tokens: 10,
            reasoning_output_tokens: 0,
          },
        },
      },
    ],
  }),
  /** A turn that fails with codex's `message` (e.g. "stream disconnected before completion: …"). */
  turnFailed: (message: string): FakeScript => ({
    steps: [
      { event: { type: "thread.started" } },
      { event: { type: "turn.started" } },
      { event: { type: "error", message } },
      { event: { type: "turn.failed", error: { message } } },
    ],
    exitCode: 1,
  }),
  /** codex refusing to start: nothing on stdout, `stderr` on stderr, exit 1. */
  failBeforeThread: (stderr: string): FakeScript => ({ steps: [{ stderr }], exitCode: 1 }),
} as const

/** A scripted `CodexExec` and the requests it received. */
export interface FakeCodexExec {
  readonly layer: Layer.Layer<CodexExec>
  /** Every request, in order. */
  readonly requests: ReadonlyArray<ExecRequest>
}

/**
 * A `CodexExec` that plays scripts instead of spawning codex: the n-th invocation plays
 * `scripts[n]` (the last one repeats), or `scripts(request, n)`. Delays use the Effect clock, so
 * `TestClock` drives them. On completion the final agent message is written to the request's
 * `outputLastMessage` file, as codex does.
 */
export const makeFakeCodexExec = (
  scripts: ReadonlyArray<FakeScript> | ((request: ExecRequest, n: number) => FakeScript),
): FakeCodexExec => {
  const requests: Array<ExecRequest> = []
  const pick = (request: ExecRequest, n: number): FakeScript => {
    if (typeof scripts === "function") return scripts(request, n)
    const script = scripts[Math.min(n, scripts.length - 1)]
    if (script === undefined) throw new Error("makeFakeCodexExec: no scripts given")
    return script
  }
  const run = (request: ExecRequest) =>
    Effect.gen(function* () {
      const n = requests.length
      requests.push(request)
      const script = pick(request, n)
      if (script.spawnError !== undefined) {
        const outcome = classify({
          exitCode: null,
          signal: null,
          spawnError: { code: script.spawnError, message: `spawn codex ${script.spawnError}` },
          stderrLines: [],
          lines: [],
          interruptedByUs: false,
        })
        if (outcome._tag === "Failed") return yield* Effect.fail(outcome.error)
      }
      const threadId = script.threadId ?? request.resumeThreadId ?? randomUUID()
      const mailbox = yield* Mailbox.make<ExecOutput>()
      const lines: Array<ExecLine> = []
      const stderr: Array<string> = []
      const ended = yield* Deferred.make<boolean>() // true when interrupted
      let lastMessage: string | undefined
      let completed = false

      const play = Effect.gen(function* () {
        for (const step of script.steps) {
          if ("delay" in step) {
            yield* Effect.sleep(step.delay)
          } else if ("stderr" in step) {
            stderr.push(step.stderr)
            mailbox.unsafeOffer({ _tag: "Stderr", text: step.stderr })
          } else {
            let raw: string
            if ("line" in step) raw = step.line
            else {
              const event =
                step.event.type === "thread.started" && step.event.thread_id === undefined
                  ? { ...step.event, thread_id: threadId }
                  : step.event
              raw = JSON.stringify(event)
              const item = event.item as { type?: unknown; text?: unknown } | undefined
              if (event.type === "item.completed" && item?.type === "agent_message")
                lastMessage = String(item.text)
              if (event.type === "turn.completed") completed = true
            }
            const line = decodeLine(raw)
            lines.push(line)
            mailbox.unsafeOffer({ _tag: "Stdout", line, bytes: new TextEncoder().encode(raw) })
          }
        }
        if (completed) writeFileSync(request.outputLastMessage, lastMessage ?? "")
      })
      const fiber = yield* Effect.forkDaemon(
        play.pipe(
          Effect.onExit((exit) =>
            Effect.zipRight(
              mailbox.done(Exit.void),
              Deferred.succeed(ended, Exit.isInterrupted(exit)),
            ),
          ),
        ),
      )
      // Completing `ended` here too covers a fiber interrupted before it ever started running.
      const interrupt = Fiber.interrupt(fiber).pipe(
        Effect.zipRight(mailbox.done(Exit.void)),
        Effect.zipRight(Deferred.succeed(ended, true)),
        Effect.asVoid,
      )
      yield* Effect.addFinalizer(() => interrupt)
      const result = Effect.map(Deferred.await(ended), (interruptedByUs) => {
        const exitCode = interruptedByUs
          ? 1
          : script.signal
            ? null
            : (script.exitCode ?? (completed ? 0 : 1))
        const signal = interruptedByUs ? null : (script.signal ?? null)
        return {
          outcome: classify({
            exitCode,
            signal,
            stderrLines: stderr,
            lines,
            requestedThreadId: request.resumeThreadId,
            interruptedByUs,
          }),
          exitCode,
          signal,
          stderrTail: stderr.slice(-40),
        }
      })
      const output = Mailbox.toStream(mailbox)
      const events = eventsOf(output, result)
      const processesSeen = Effect.succeed([])
      return {
        pid: 0,
        runId: `fake-${n}`,
        output,
        events,
        interrupt,
        result,
        processesSeen,
      } satisfies ExecRun
    })
  return { layer: Layer.succeed(CodexExec, { run }), requests }
}
