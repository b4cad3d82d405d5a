// Issue 20 §2.11: `status` on a task whose task.log is big (default 300 MiB of realistic codex
// events over many turns; the last turn small). Times `status ID` and `status --json ID` through
// the built CLI and reports their max RSS; checks the last turn's files are the right ones.
// With --one-turn the log is one turn (a single prompt at its start): the pathological case.
// Reports the median wall and CPU (user + sys) time and the max RSS; on a loaded machine the CPU
// time is the steadier figure. `--cli PATH` times another build (e.g. a copy of main's dist/).
// Needs `npm run build`. Usage: node bench/status-big-log.mjs [MiB] [--one-turn] [--runs N]
// [--cli PATH] [--node PATH]
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
import { cli as builtCli, node, nodeEnv } from "./lib.mjs"

const args = process.argv.slice(2)
const runsAt = args.indexOf("--runs")
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5
const cliAt = args.indexOf("--cli")
const cli = cliAt >= 0 ? args.splice(cliAt, 2)[1] : builtCli
const oneTurnAt = args.indexOf("--one-turn")
const oneTurn = oneTurnAt >= 0 && args.splice(oneTurnAt, 1).length > 0
const mib = args.length > 0 ? Number(args[0]) : 300

const id = "01a21958-d3fb-7ce0-b1b2-7d4dd2e7044b"
const work = "/tmp/bench-work"
const line = (e) => `${JSON.stringify(e)}\n`

/** One earlier turn (~100 KiB): a prompt, commands with output, a file change, a reply. */
const turn = (n) => {
  const out = []
  const message = `step ${n}: run the tests and fix what fails`
  if (!oneTurn) out.push(line({ type: "user_message", message }))
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

const lastPrompt = line({ type: "user_message", message: "last: rename the helper" })
const lastTurn = [
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

/** Median wall and CPU time (ms) of `runs` runs of a command, and its max RSS (KiB). */
const timeCpu = (argv, runs) => {
  const walls = []
  const cpus = []
  let maxRssKiB = 0
  for (let i = 0; i < runs; i++) {
    const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", ...argv], {
      env: nodeEnv(),
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
    })
    const [wall, user, sys, rss] = r.stderr.trim().split("\n").pop().split(" ").map(Number)
    walls.push(wall * 1000)
    cpus.push((user + sys) * 1000)
    maxRssKiB = Math.max(maxRssKiB, rss)
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  return { wallMs: median(walls), cpuMs: median(cpus), maxRssKiB }
}

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
if (oneTurn) writeSync(fd, lastPrompt)
let written = 0
let turns = 0
while (written < mib * 1024 * 1024) {
  written += writeSync(fd, turn(turns))
  turns++
}
writeSync(fd, oneTurn ? lastTurn : lastPrompt + lastTurn)
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
const shown =
  Array.isArray(files) && files.length > 4
    ? `${files.length} paths, last ${JSON.stringify(files.slice(-2))}`
    : JSON.stringify(files)
console.log(
  `task.log ${(written / 1024 / 1024).toFixed(0)} MiB, ${oneTurn ? "one turn" : `${turns + 1} turns`}; last_turn_files ${shown}`,
)
for (const [name, argv] of [
  ["status ID", [node, cli, "--store-root", root, "status", id]],
  ["status --json ID", [node, cli, "--store-root", root, "status", "--json", id]],
]) {
  const r = timeCpu(argv, runs)
  console.log(
    `${name.padEnd(18)} median ${r.wallMs.toFixed(0).padStart(6)} ms wall, ${r.cpuMs.toFixed(0).padStart(6)} ms CPU  max RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB  (${runs} runs)`,
  )
}
rmSync(root, { recursive: true, force: true })
