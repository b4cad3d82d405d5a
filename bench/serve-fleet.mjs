// serve --cluster's board poll (src/serve/fleetBoard.ts), without PostgreSQL: the CPU one poll
// costs this process on a fleet of 1,000 tasks once the rows are read (turning them into board
// rows, telling changed from unchanged, publishing the delta), with nothing changed and with 10
// tasks changed. The query itself is `ls --cluster`'s (bench/cluster.mjs measures it). Needs
// `npm run build` (dist/). Run: node bench/serve-fleet.mjs
import { join } from "node:path"
import { Effect } from "effect"
import { repo } from "./lib.mjs"

const { makeFleetBoard } = await import(join(repo, "dist/serve/fleetBoard.js"))

const TASKS = 1_000
const POLLS = 200
const task = (i, state) => ({
  id: `0199d7c6-0000-7000-8000-${String(i).padStart(12, "0")}`,
  title: `task ${i}`,
  state,
  created_at: "2026-12-08T01:00:00Z",
  updated_at: "2026-12-08T01:00:00Z",
  last_prompt: "Refactor the retry loop and add tests for it",
  last_result: "Done: the retry loop now backs off exponentially.",
  working_dir: "/srv/app",
  pid: null,
  initial_prompt: "Refactor the retry loop and add tests for it",
  outcome: { kind: "completed" },
  queued_prompts: 0,
  dropped_prompts: 0,
  turns: 3,
  usage: { input_tokens: 12000, output_tokens: 800, cached_input_tokens: 0 },
  archived: false,
  path: `/srv/store/${i}`,
  worker_stderr: null,
  result_json: null,
  waiting: null,
  leftover_processes: [],
  last_turn_files: [],
  worktree: null,
  host: `build-${i % 3}`,
})
let tasks = Array.from({ length: TASKS }, (_, i) => task(i, "STOPPED"))
const board = makeFleetBoard({ list: () => Effect.sync(() => tasks) })
let messages = 0
board.feed.subscribe(undefined, () => messages++)
await Effect.runPromise(board.refresh)

const measure = async (label, change) => {
  const times = []
  for (let p = 0; p < POLLS; p++) {
    change(p)
    const t0 = performance.now()
    await Effect.runPromise(board.refresh)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  const at = (q) => times[Math.floor(q * (times.length - 1))].toFixed(2)
  console.log(`${label}: median ${at(0.5)} ms, p95 ${at(0.95)} ms per poll (${POLLS} polls)`)
}

await measure(`${TASKS} tasks, nothing changed`, () => {})
const before = messages
await measure(`${TASKS} tasks, 10 changed per poll`, (p) => {
  tasks = tasks.map((t, i) => (i % 100 === p % 100 ? { ...t, turns: t.turns + 1 } : t))
})
console.log(`deltas published while 10 changed per poll: ${messages - before} (one per poll)`)
