#!/usr/bin/env node
// A stand-in for `codex exec --json` that prints one very long line: thread.started,
// turn.started, the bytes of the file LONG_LINE_FILE (one `item.completed` agent_message line,
// without its "\n"), turn.completed; writes that message's text to the `--output-last-message`
// file and exits 0. Used by test/e2e/longLine.test.ts and bench/long-line.mjs as `--codex-bin`.
import { readFileSync, writeFileSync } from "node:fs"

const args = process.argv.slice(2)
const at = (flag) => {
  const i = args.indexOf(flag)
  return i === -1 ? undefined : args[i + 1]
}
const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16))
const now = Date.now().toString(16).padStart(12, "0")
const threadId =
  at("resume") ??
  `${now.slice(0, 8)}-${now.slice(8)}-7${hex(3).join("")}-8${hex(3).join("")}-${hex(12).join("")}`

const line = readFileSync(process.env.LONG_LINE_FILE)
process.stdin.resume()
process.stdin.on("end", () => {
  const event = (e) => Buffer.from(`${JSON.stringify(e)}\n`)
  const out = Buffer.concat([
    event({ type: "thread.started", thread_id: threadId }),
    event({ type: "turn.started" }),
    line,
    Buffer.from("\n"),
    event({
      type: "turn.completed",
      usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 20 },
    }),
  ])
  const output = at("--output-last-message")
  if (output !== undefined) writeFileSync(output, JSON.parse(line.toString("utf8")).item.text)
  // Exit once the pipe took everything (process.exit would cut a pending write short).
  process.stdout.write(out)
})
