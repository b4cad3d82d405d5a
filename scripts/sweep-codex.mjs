#!/usr/bin/env node
// The fake `codex exec --json` of the crash sweep (scripts/sweep.mjs): reads the prompt from stdin,
// appends `{"prompt","thread","pid"}` to the ledger SWEEP_LEDGER (what the model saw, one line per
// turn), waits SWEEP_TURN_MS, then prints thread.started … turn.completed, writes the final
// message to the `--output-last-message` file and exits 0. SIGINT ends it at once (exit 130).
// A prompt containing LIMIT hits a usage limit (reset in 2 s) the first time the sandbox sees it
// (SWEEP_LIMIT_ONCE names the marker file). SWEEP_WRITE=1 writes the answer to a file in the working
// directory (a change for worktree scenarios). SWEEP_RUNNING_DIR + SWEEP_MAX_RUNNING: each run
// registers its pid there and records an `overlap` entry in the ledger when more runs are alive
// than the limit allows (invariant 3's `--max-running` half).
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const args = process.argv.slice(2)
const at = (flag) => {
  const i = args.indexOf(flag)
  return i === -1 ? undefined : args[i + 1]
}
const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16))
const now = Date.now().toString(16).padStart(12, "0")
const resumed = at("resume")
const thread =
  resumed ??
  `${now.slice(0, 8)}-${now.slice(8)}-7${hex(3).join("")}-8${hex(3).join("")}-${hex(12).join("")}`
const event = (e) => process.stdout.write(`${JSON.stringify(e)}\n`)
// SWEEP_IGNORE_SIGINT=1: a codex that does not stop when asked (the stop timeout's path).
process.on("SIGINT", () => {
  if (process.env.SWEEP_IGNORE_SIGINT !== "1") process.exit(130)
})

const runningDir = process.env.SWEEP_RUNNING_DIR
if (runningDir !== undefined) {
  mkdirSync(runningDir, { recursive: true })
  writeFileSync(join(runningDir, String(process.pid)), "")
  process.on("exit", () => rmSync(join(runningDir, String(process.pid)), { force: true }))
  // Alive: a process that has not exited (a SIGKILLed run is a zombie until it is reaped, and
  // its pid file stays: it has no exit handler to run).
  const alive = readdirSync(runningDir).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")
    } catch {
      return false
    }
  })
  const max = Number(process.env.SWEEP_MAX_RUNNING ?? "Infinity")
  if (alive.length > max && process.env.SWEEP_LEDGER !== undefined) {
    appendFileSync(
      process.env.SWEEP_LEDGER,
      `${JSON.stringify({ overlap: alive.length, max, pid: process.pid })}\n`,
    )
  }
}

const chunks = []
process.stdin.on("data", (c) => chunks.push(c))
process.stdin.on("end", () => {
  const prompt = Buffer.concat(chunks).toString("utf8")
  event({ type: "thread.started", thread_id: thread })
  event({ type: "turn.started" })
  const once = process.env.SWEEP_LIMIT_ONCE
  if (prompt.includes("LIMIT") && once !== undefined && !existsSync(once)) {
    writeFileSync(once, prompt)
    const message = "You've hit your usage limit. Upgrade to Pro, or try again in 2 seconds."
    event({ type: "error", message })
    event({ type: "turn.failed", error: { message } })
    process.exit(1)
  }
  if (process.env.SWEEP_LEDGER !== undefined) {
    appendFileSync(
      process.env.SWEEP_LEDGER,
      `${JSON.stringify({ prompt, thread, pid: process.pid })}\n`,
    )
  }
  setTimeout(
    () => {
      const text = `answer to: ${prompt}`
      if (process.env.SWEEP_WRITE === "1") {
        writeFileSync(join(process.cwd(), `out-${process.pid}.txt`), `${text}\n`)
      }
      event({ type: "item.completed", item: { id: "item_0", type: "agent_message", text } })
      event({
        type: "turn.completed",
        usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 20 },
      })
      const output = at("--output-last-message")
      if (output !== undefined) writeFileSync(output, text)
    },
    Number(process.env.SWEEP_TURN_MS ?? "100"),
  )
})
