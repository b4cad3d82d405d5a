import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { UsageError } from "../domain/exit.js"
import { effectiveState } from "../domain/task.js"
import { renderLogLine } from "../render/longLine.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import { TaskStore } from "../store/TaskStore.js"
import { readLog } from "../tasks/logReader.js"
import { globalOptions } from "./root.js"
import { storeOf } from "./runtime.js"
import { stdoutStyle } from "./shared.js"

/** Writes to stdout, waiting for the pipe to drain (bounded memory on huge logs). */
const writeOut = (data: string | Uint8Array) =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(data)) resume(Effect.void)
    else process.stdout.once("drain", () => resume(Effect.void))
  })

/** `codex-tasks log`: a task's transcript, as text or raw JSONL, optionally following it. */
export const log = Command.make(
  "log",
  {
    ...globalOptions,
    json: Options.boolean("json").pipe(Options.withDescription("Print the raw JSONL log.")),
    follow: Options.boolean("follow").pipe(
      Options.withAlias("f"),
      Options.withDescription("Keep printing new events until the task stops running."),
    ),
    forever: Options.boolean("forever").pipe(
      Options.withAlias("F"),
      Options.withDescription("Keep printing new events, even after the task stops (Ctrl-C ends)."),
    ),
    lines: Options.integer("lines").pipe(
      Options.withAlias("n"),
      Options.withDescription("Only the last N events."),
      Options.optional,
    ),
    full: Options.boolean("full").pipe(Options.withDescription("Do not shorten command output.")),
    task: Args.text({ name: "TASK" }).pipe(Args.withDescription("Task id or unique prefix.")),
  },
  (o) =>
    storeOf(
      Effect.gen(function* () {
        const lastLines = Option.getOrUndefined(o.lines)
        if (lastLines !== undefined && lastLines < 0) {
          return yield* new UsageError({ message: "--lines must be zero or more." })
        }
        const store = yield* TaskStore
        const loc = yield* store.resolve(o.task, { includeArchived: true })
        const renderer = makeTranscriptRenderer({ style: stdoutStyle(), full: o.full })
        const running = Effect.gen(function* () {
          if (loc.archived) return false
          const meta = yield* store.read(loc).pipe(Effect.option)
          if (Option.isNone(meta)) return false
          return effectiveState(meta.value, yield* store.workerAlive(loc)).state === "RUNNING"
        })
        const onLines = (lines: ReadonlyArray<Buffer>) => {
          if (o.json) return writeOut(Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])))
          let text = ""
          for (const l of lines) {
            const rendered = renderLogLine(renderer, l, loc.id)
            if (rendered !== "") text += rendered.endsWith("\n") ? rendered : `${rendered}\n`
          }
          return text === "" ? Effect.void : writeOut(text)
        }
        const follow = o.follow || o.forever
        yield* readLog(store.logPath(loc), onLines, {
          lastLines,
          follow: follow
            ? { done: o.forever ? Effect.succeed(false) : Effect.map(running, (r) => !r) }
            : undefined,
        })
        if (!o.json) {
          const pending = renderer.pending(!(yield* running))
          if (pending !== "") yield* writeOut(pending.endsWith("\n") ? pending : `${pending}\n`)
        }
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Print a task's transcript (codex-exec style), or its raw JSONL with --json.\n\nExample: codex-tasks log -f 0199d7c2\nExample: codex-tasks log --json -n 20 0199d7c2 | jq .type",
  ),
)
