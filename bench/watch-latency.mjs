// Issue 14 item 4: `log -f` and `status --wait` react to a change within 100 ms, by file watching
// (node's fs.watch; no native package). The slow re-check is set an hour away
// (CODEX_TASKS_RECHECK_MS), so every figure here is the watcher's. `--cli PATH` measures another
// copy (e.g. one installed from the packed tarball); `--node PATH` another Node.
import { spawn } from "node:child_process"
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { join } from "node:path"
import { identityOf } from "../dist/processes/procfs.js"
import { cli as builtCli, makeStore, node, nodeEnv } from "./lib.mjs"

const cliAt = process.argv.indexOf("--cli")
const cli = cliAt === -1 ? builtCli : process.argv[cliAt + 1]
const root = makeStore(0)
const id = "01a20000-0000-7000-8000-00000000beef"
const dir = join(root, id)
mkdirSync(dir, { mode: 0o700 })
const log = join(dir, "task.log")
const env = { ...nodeEnv(), CODEX_TASKS_HOME: root, CODEX_TASKS_RECHECK_MS: "3600000" }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Writes task.json in `state` the way the worker does (a new file renamed over the old one). */
const setState = (state) => {
  const at = new Date().toISOString()
  const meta = { id, title: null, state, created_at: at, updated_at: at, last_result: null }
  writeFileSync(join(dir, "task.json.tmp"), `${JSON.stringify({ ...meta, working_dir: "/tmp" })}\n`)
  renameSync(join(dir, "task.json.tmp"), join(dir, "task.json"))
}
// This process stands in for the task's live worker (worker.json keys are snake_case).
const me = identityOf(process.pid)
writeFileSync(
  join(dir, "worker.json"),
  `${JSON.stringify({ pid: me.pid, start_time: me.startTime, boot_id: me.bootId })}\n`,
)
setState("RUNNING")
const event = (text) =>
  `${JSON.stringify({ type: "item.completed", item: { id: "x", type: "agent_message", text } })}\n`
appendFileSync(log, event("first"))

/** True when process `pid` has an inotify watch on the task directory (Linux /proc). */
const watchesDir = (pid) => {
  const inode = `ino:${statSync(dir).ino.toString(16)} `
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = ""
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      if (
        target.includes("inotify") &&
        readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8").includes(inode)
      )
        return true
    }
  } catch {}
  return false
}

// log -f: one follower; each append timed until the follower printed it.
const follower = spawn(node, [cli, "log", "-f", id], { env, stdio: ["ignore", "pipe", "inherit"] })
let out = ""
const waitOut = (text) =>
  new Promise((resolve) => {
    const check = () => {
      if (!out.includes(text)) return
      follower.stdout.off("data", check)
      resolve(performance.now())
    }
    follower.stdout.on("data", check)
    check()
  })
follower.stdout.on("data", (c) => {
  out += c
})
await waitOut("first")
const follow = []
for (let i = 0; i < 20; i++) {
  const marker = `marker-${i}`
  const seen = waitOut(marker)
  const t0 = performance.now()
  appendFileSync(log, event(marker))
  follow.push((await seen) - t0)
  await sleep(50)
}
const followerExit = new Promise((r) => follower.on("exit", r))
const t0Stop = performance.now()
setState("STOPPED")
await followerExit
const followEnd = performance.now() - t0Stop
console.log(
  `log -f: appended event shown after ${median(follow).toFixed(1)} ms (median of ${follow.length}), worst ${Math.max(...follow).toFixed(1)} ms; exited ${followEnd.toFixed(0)} ms after the task stopped`,
)

// status --wait: a fresh wait each time, once it watches; timed from the state change to its exit.
const waits = []
const shown = []
for (let i = 0; i < 10; i++) {
  setState("RUNNING")
  const child = spawn(node, [cli, "status", "--wait", id], {
    env,
    stdio: ["ignore", "pipe", "ignore"],
  })
  const printed = new Promise((r) => child.stdout.once("data", () => r(performance.now())))
  const exited = new Promise((r) => child.on("exit", () => r(performance.now())))
  while (!watchesDir(child.pid)) await sleep(2)
  const t0 = performance.now()
  setState("STOPPED")
  shown.push((await printed) - t0)
  waits.push((await exited) - t0)
}
console.log(
  `status --wait: printed the task ${median(shown).toFixed(1)} ms after it stopped (median of ${shown.length}), worst ${Math.max(...shown).toFixed(1)} ms; exited after ${median(waits).toFixed(1)} ms, worst ${Math.max(...waits).toFixed(1)} ms`,
)
rmSync(root, { recursive: true, force: true })
