// Run slots (issue 20, §2.10): what N runs waiting for a slot cost while they wait. Spawns N
// processes (default 50, `--n N`) that each wait for a slot of one store under a limit of 1 that
// this process holds (dist/store/slots.js `takeSlot`, as a worker's invocation does), measures
// their CPU time (utime + stime from /proc/<pid>/stat) over a window (`--seconds S`, default 5),
// then releases the slot and times until every waiter has had its turn (each takes the slot,
// gives it back and exits). Run `npm run build` first.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { node, repo } from "./lib.mjs"

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}
const n = arg("--n", 50)
// `--idle`: the same processes, waiting on nothing (the floor: an idle Node process's own cost).
const idle = process.argv.includes("--idle")
const seconds = arg("--seconds", 5)
const { takeSlot } = await import(join(repo, "dist/store/slots.js"))
const { Effect, Exit, Scope } = await import("effect")
const root = mkdtempSync(join(tmpdir(), "codex-tasks-bench-slot-wait-"))

const holder = await Effect.runPromise(Scope.make())
await Effect.runPromise(Scope.extend(takeSlot(root, 1), holder))

// Each waiter: prints "waiting" once it waits, "took" once it holds the slot, then releases it.
const child = idle
  ? `
await import(process.env.SLOTS_JS)
const { Effect } = await import("effect")
console.log("waiting")
await Effect.runPromise(Effect.sleep("1 hour"))
`
  : `
const { takeSlot } = await import(process.env.SLOTS_JS)
const { Effect } = await import("effect")
await Effect.runPromise(Effect.scoped(Effect.tap(
  takeSlot(process.env.ROOT, 1, { onWait: () => Effect.sync(() => console.log("waiting")) }),
  () => Effect.sync(() => console.log("took")),
)))
`
const waiters = []
for (let i = 0; i < n; i++) {
  const proc = spawn(node, ["--input-type=module", "-e", child], {
    cwd: repo,
    env: { ...process.env, ROOT: root, SLOTS_JS: join(repo, "dist/store/slots.js") },
    stdio: ["ignore", "pipe", "inherit"],
  })
  const w = { proc, waiting: false, took: false, exited: false }
  proc.stdout.on("data", (c) => {
    if (String(c).includes("waiting")) w.waiting = true
    if (String(c).includes("took")) w.took = true
  })
  proc.on("exit", () => (w.exited = true))
  waiters.push(w)
  // One after the other: their tickets (and start-up CPU) are not what is measured.
  while (!w.waiting && !w.exited) await new Promise((r) => setTimeout(r, 5))
}

const ticks = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return Number(f[11]) + Number(f[12]) // utime + stime (fields 14 and 15)
  } catch {
    return 0
  }
}
const total = () => waiters.reduce((sum, w) => sum + ticks(w.proc.pid), 0)
await new Promise((r) => setTimeout(r, 3000)) // settle after the last start-up
const before = total()
await new Promise((r) => setTimeout(r, seconds * 1000))
const used = (total() - before) / 100 // clock ticks (USER_HZ = 100) → CPU seconds
const t0 = performance.now()
if (idle) for (const w of waiters) w.proc.kill()
await Effect.runPromise(Scope.close(holder, Exit.void))
while (waiters.some((w) => !w.exited)) await new Promise((r) => setTimeout(r, 5))
const drained = performance.now() - t0
const tookAll = idle || waiters.every((w) => w.took)

console.log(
  `Node ${process.version}, ${n} ${idle ? "idle processes (--idle)" : "waiters"}, limit 1, window ${seconds} s`,
)
console.log(
  `CPU while waiting: ${used.toFixed(2)} CPU-s in ${seconds} s = ${((100 * used) / seconds).toFixed(1)} % of a core (${((1000 * used) / seconds / n).toFixed(2)} ms/s per waiter)`,
)
console.log(
  `after the release: all ${n} took the slot in turn in ${drained.toFixed(0)} ms (${(drained / n).toFixed(1)} ms per hand-over)${tookAll ? "" : " — SOME NEVER TOOK IT"}`,
)
rmSync(root, { recursive: true, force: true })
