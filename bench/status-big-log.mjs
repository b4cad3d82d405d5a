// Issue 20 §2.11: `status` on a task whose task.log is big (default 300 MiB of realistic codex
// events over many turns; the last turn small). Times `status ID` and `status --json ID` through
// the built CLI and reports their max RSS; checks the last turn's files are the right ones.
// Needs `npm run build`. Usage: node bench/status-big-log.mjs [MiB] [--runs N] [--node PATH]
import { spawnSync } from "node:child_process"
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, node, timeCommand } from "./lib.mjs"

const args = process.argv.slice(2)
const runsAt = args.indexOf("--runs")
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5
const mib = args.length > 0 ? Number(args[0]) : 300

const id = "01a21958-d3fb-7ce0-b1b2-7d4dd2e7044b"
const work = "/tmp/bench-work"
const line = (e) => `${JSON.stringify(e)}\n`

/** One earlier turn (~100 KiB): a prompt, commands with output, a file change, a reply. */
const turn = (n) => {
  const out = []
  out.push(line({ type: "user_message", message: `step ${n}: run the tests and fix what fails` }))
  out.push(line({ type: "turn.started" }))
  for (let c = 0; c < 12; c++) {
    const item = {
      id: `item_${c}`,
      type: "command_execution",
      command: `/bin/bash -lc "npm test -- part${c}"`,
    }
    out.push(
      line({
        type: "item.started",
        item: { ...item, aggregated_output: "", exit_code: null, status: "in_progress" },
      }),
    )
    const output =
      `PASS test/part${c}/case.test.ts (turn ${n})\n  ✓ does the thing (3 ms)\n`.repeat(100)
    out.push(
      line({
        type: "item.completed",
        item: { ...item, aggregated_output: output, exit_code: 0, status: "completed" },
      }),
    )
  }
  const change = {
    id: "item_12",
    type: "file_change",
    changes: [{ path: `${work}/src/old${n % 50}.ts`, kind: "update" }],
  }
  out.push(line({ type: "item.started", item: { ...change, status: "in_progress" } }))
  out.push(line({ type: "item.completed", item: { ...change, status: "completed" } }))
  out.push(
    line({
      type: "item.completed",
      item: {
        id: "item_13",
        type: "agent_message",
        text: `Fixed step ${n}. ${"All tests pass now. ".repeat(40)}`,
      },
    }),
  )
  out.push(
    line({
      type: "turn.completed",
      usage: {
        input_tokens: 12000,
        cached_input_tokens: 8000,
        output_tokens: 300,
        reasoning_output_tokens: 0,
      },
    }),
  )
  return out.join("")
}

const lastTurn = [
  line({ type: "user_message", message: "last: rename the helper" }),
  line({ type: "turn.started" }),
  line({
    type: "item.completed",
    item: {
      id: "item_0",
      type: "file_change",
      changes: [
        { path: `${work}/src/last.ts`, kind: "update" },
        { path: `${work}/src/new.ts`, kind: "add" },
      ],
      status: "completed",
    },
  }),
  line({ type: "item.completed", item: { id: "item_1", type: "agent_message", text: "Renamed." } }),
  line({
    type: "turn.completed",
    usage: {
      input_tokens: 100,
      cached_input_tokens: 0,
      output_tokens: 10,
      reasoning_output_tokens: 0,
    },
  }),
].join("")

const root = mkdtempSync(join(tmpdir(), "codex-tasks-bench-biglog-"))
const dir = join(root, id)
mkdirSync(dir, { mode: 0o700 })
const at = "2026-01-01T00:00:00.000Z"
const meta = {
  id,
  title: "big log",
  state: "STOPPED",
  created_at: at,
  updated_at: at,
  last_prompt: "last: rename the helper",
  last_result: "Renamed.",
  working_dir: work,
  schema_version: 1,
  turns: 0,
}
const fd = openSync(join(dir, "task.log"), "w", 0o600)
writeSync(fd, line({ type: "thread.started", thread_id: id }))
let written = 0
let turns = 0
while (written < mib * 1024 * 1024) {
  written += writeSync(fd, turn(turns))
  turns++
}
writeSync(fd, lastTurn)
closeSync(fd)
writeFileSync(
  join(dir, "task.json"),
  `${JSON.stringify({ ...meta, turns: turns + 1 }, null, 2)}\n`,
  { mode: 0o600 },
)

const check = spawnSync(node, [cli, "--store-root", root, "status", "--json", id], {
  encoding: "utf8",
  maxBuffer: 1 << 26,
})
const files = check.status === 0 ? JSON.parse(check.stdout).last_turn_files : check.stderr
console.log(
  `task.log ${(written / 1024 / 1024).toFixed(0)} MiB, ${turns + 1} turns; last_turn_files ${JSON.stringify(files)}`,
)
for (const [name, argv] of [
  ["status ID", [node, cli, "--store-root", root, "status", id]],
  ["status --json ID", [node, cli, "--store-root", root, "status", "--json", id]],
]) {
  const r = timeCommand(argv, runs)
  console.log(
    `${name.padEnd(18)} median ${r.medianMs.toFixed(0).padStart(6)} ms  max RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB  (${runs} runs)`,
  )
}
rmSync(root, { recursive: true, force: true })
