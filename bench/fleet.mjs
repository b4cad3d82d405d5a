// Fleet footprint: 10 tasks that each run a long command. Reports the summed proportional set
// size (Pss, /proc/<pid>/smaps_rollup) of our processes (workers, and npm shims where codex runs
// through one) against codex's own, per task; then the CPU time our processes use while codex
// streams events (10 tasks × 40 quick commands) against codex's. Target: ≤ 40 MB, one process.
import { spawnSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, node, nodeEnv, repo, run } from "./lib.mjs"

const TASKS = 10
const { startModelServer, makeCodexHome, codexEnv } = await import(
  join(repo, "dist/testing/index.js")
)
const server = await startModelServer()
const home = await makeCodexHome(server)
const work = mkdtempSync(join(tmpdir(), "codex-tasks-fleet-"))
const mark = randomUUID()
const env = nodeEnv({
  ...codexEnv(home),
  HOME: work,
  CODEX_TASKS_HOME: join(work, "store"),
  CODEX_TASKS_CODEX_BIN: codex,
  FLEET_MARK: mark,
})
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const read = (path) => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return ""
  }
}

/** Every live process of this bench, by kind: ours (worker, shim), codex, or a command. */
const processes = () => {
  const out = []
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    if (!read(`/proc/${name}/environ`).includes(`FLEET_MARK=${mark}`)) continue
    const cmd = read(`/proc/${name}/cmdline`).split("\0")
    const kind = cmd.includes("__worker")
      ? "worker"
      : cmd[1]?.endsWith("/.bin/codex") || cmd[1]?.endsWith("/codex.js")
        ? "shim"
        : cmd[0]?.endsWith("/bin/codex")
          ? "codex"
          : "command"
    out.push({ pid: Number(name), kind })
  }
  return out
}
const pssKiB = (pid) => Number(/^Pss:\s+(\d+)/m.exec(read(`/proc/${pid}/smaps_rollup`))?.[1] ?? 0)
const cpuTicks = (pid) => {
  const stat = read(`/proc/${pid}/stat`)
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return Number(f[11] ?? 0) + Number(f[12] ?? 0) // utime + stime
}
const start = (prompt) =>
  run(
    [
      node,
      cli,
      "start",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      prompt,
    ],
    env,
  )
const stopAll = async () => {
  await run([node, cli, "stop", "--all"], env)
  for (let i = 0; i < 100 && processes().length > 0; i++) await sleep(100)
}
const sum = (list, f) => list.reduce((n, p) => n + f(p), 0)
const pssOf = (p) => p.pss

// 1. Footprint while every task runs `sleep 300`.
await Promise.all(Array.from({ length: TASKS }, () => start("Long.\nRUN:sleep 300\nREPLY:never")))
for (let i = 0; i < 300; i++) {
  const sleeping = processes().filter((p) => read(`/proc/${p.pid}/cmdline`).startsWith("sleep"))
  if (sleeping.length >= TASKS) break
  await sleep(100)
}
await sleep(1000)
const pss = new Map(processes().map((p) => [p.pid, { ...p, pss: pssKiB(p.pid) }]))
const ps = [...pss.values()]
const byKind = (k) => ps.filter((p) => p.kind === k)
const mb = (kib) => (kib / 1024).toFixed(1)
const ours = [...byKind("worker"), ...byKind("shim")]
console.log(`Node ${spawnSync(node, ["-v"], { encoding: "utf8" }).stdout.trim()}`)
console.log(
  `${TASKS} tasks running a command: ${byKind("worker").length} workers, ${byKind("shim").length} npm shims, ${byKind("codex").length} codex`,
)
console.log(
  `Pss, ours:  ${mb(sum(ours, pssOf))} MB in all, ${mb(sum(ours, pssOf) / TASKS)} MB and ${(ours.length / TASKS).toFixed(1)} processes per task (workers ${mb(sum(byKind("worker"), pssOf))} MB, shims ${mb(sum(byKind("shim"), pssOf))} MB)`,
)
console.log(
  `Pss, codex: ${mb(sum(byKind("codex"), pssOf))} MB in all, ${mb(sum(byKind("codex"), pssOf) / TASKS)} MB per task`,
)
await stopAll()

// 2. CPU while codex streams: each task runs 40 quick commands, events 5 ms apart.
const prompt = [
  "Stream.",
  "SLOW:5",
  ...Array.from({ length: 40 }, (_, i) => `RUN:echo ${i}`),
  "REPLY:done",
]
await Promise.all(Array.from({ length: TASKS }, () => start(prompt.join("\n"))))
// CPU from now on (every id printed), up to each process's last sample before it ended.
const seen = new Map()
const t0 = Date.now()
for (;;) {
  const now = processes().filter((p) => p.kind !== "command")
  if (now.length === 0) break
  for (const p of now) {
    const t = cpuTicks(p.pid)
    const before = seen.get(p.pid)
    seen.set(p.pid, { kind: p.kind, base: before?.base ?? t, ticks: t - (before?.base ?? t) })
  }
  await sleep(50)
}
const wall = Date.now() - t0
const ticks = (kinds) =>
  [...seen.values()].filter((p) => kinds.includes(p.kind)).reduce((n, p) => n + p.ticks, 0)
const ms = (t) => ((t * 1000) / 100).toFixed(0) // USER_HZ = 100
console.log(
  `while streaming (${TASKS} × 40 commands, ${wall} ms after the last id): CPU ours ${ms(ticks(["worker", "shim"]))} ms, codex ${ms(ticks(["codex"]))} ms`,
)
await stopAll()
await server.close()
rmSync(work, { recursive: true, force: true })
rmSync(home, { recursive: true, force: true })
