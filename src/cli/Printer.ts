import { Context, Effect, Layer } from "effect"
import { colorEnabled, makeStyle } from "../render/style.js"
import type { Unreadable } from "../tasks/queries.js"

/** Where a command's output goes: data on stdout, diagnostics on stderr. */
export interface PrinterShape {
  /** Writes `text` to stdout as is, waiting for the pipe to drain (bounded memory on huge logs). */
  readonly write: (text: string | Uint8Array) => Effect.Effect<void>
  /** Writes one line of data to stdout. */
  readonly line: (text: string) => Effect.Effect<void>
  /** Writes a value as pretty JSON to stdout. */
  readonly json: (value: unknown) => Effect.Effect<void>
  /** Writes one diagnostic line to stderr. */
  readonly note: (text: string) => Effect.Effect<void>
}

/** Builds a printer over two byte sinks (stdout and stderr). */
export const makePrinter = (
  out: (data: string | Uint8Array) => Effect.Effect<void>,
  err: (text: string) => Effect.Effect<void>,
): PrinterShape => ({
  write: out,
  line: (text) => out(`${text}\n`),
  json: (value) => out(`${JSON.stringify(value, null, 2)}\n`),
  note: (text) => err(`${text}\n`),
})

const stdoutWrite = (data: string | Uint8Array) =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(data)) resume(Effect.void)
    else process.stdout.once("drain", () => resume(Effect.void))
  })

/** The printer on this process's stdout and stderr. */
export const livePrinter: PrinterShape = makePrinter(stdoutWrite, (text) =>
  Effect.sync(() => void process.stderr.write(text)),
)

/** The command output port (the CLI's live layer writes to the process's stdout and stderr). */
export class Printer extends Context.Tag("codex-tasks/Printer")<Printer, PrinterShape>() {
  /** stdout and stderr of this process. */
  static readonly layer = Layer.succeed(Printer, livePrinter)
}

/** Writes one line of data to stdout. */
export const printLine = (text: string) => Effect.flatMap(Printer, (p) => p.line(text))

/** Writes JSON to stdout. */
export const printJson = (value: unknown) => Effect.flatMap(Printer, (p) => p.json(value))

/** Writes one diagnostic line to stderr. */
export const printNote = (text: string) => Effect.flatMap(Printer, (p) => p.note(text))

/** Colours for stdout: only on a terminal, never with NO_COLOR. */
export const stdoutStyle = () => makeStyle(colorEnabled(process.stdout, process.env))

/** Reports tasks that could not be read, on stderr. */
export const reportUnreadable = (broken: ReadonlyArray<Unreadable>) =>
  Effect.forEach(broken, (b) => printNote(`codex-tasks: ${b.message}`), { discard: true })
