// The app-server backend against exec, same run, same scripted model server (issue 22 §4):
// 1. overhead per queued turn: the gap between one queued prompt's model request and the next
//    one's (the scripted answers are instant, so the gap is what a turn costs around the
//    model), median over 10 queued prompts; target app-server ≤ 1/3 of exec;
// 2. `start` → id: median wall time of the CLI; target app-server ≤ exec + 10 %;
// 3. memory per running task (worker + codex, summed Pss) while a command runs; target ≤ exec.
// The CLI runs the native codex binary behind the npm package (exec/nativeCodex.ts) for both.
// Run after `npm run build`: node bench/app-server.mjs
import { randomUUID } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, node, nodeEnv, repo, run } from "./lib.mjs"

const QUEUED = 10
const STARTS = 7
const { startModelServer, makeCodexHome, codexEnv } = await import(
  join(repo, "dist/testing/index.js")
)
const server = await startModelServer()
const home = await makeCodexHome(server)
const work = mkdtempSync(join(tmpdir(), "codex-tasks-app-server-"))
const mark = randomUUID()
const env = nodeEnv({
  ...codexEnv(home),
  HOME: work,
  CODEX_TASKS_HOME: join(work, "store"),
  CODEX_TASKS_CODEX_BIN: codex,
  BENCH_MARK: mark,
})
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const read = (path) => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return ""
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const cli$ = (args) => run([node, cli, ...args], env)
const start = async (backend, prompt) => {
  const t0 = performance.now()
  const r = await cli$([
    "start",
    "--backend",
    backend,
    "--skip-git-repo-check",
    "--dangerously-bypass-approvals-and-sandbox",
    prompt,
  ])
  const id = r.trim()
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`start printed no id: ${r}`)
  return { id, ms: performance.now() - t0 }
}
const state = (id) => JSON.parse(read(join(work, "store", id, "task.json")) || "{}")
const waitStopped = async (id, turns) => {
  for (let i = 0; i < 1200; i++) {
    const m = state(id)
    if (m.state === "STOPPED" && (turns === undefined || m.turns === turns)) return
    await sleep(100)
  }
  throw new Error(`task ${id} did not finish`)
}
const requestsOf = (id) => server.requests.filter((r) => r.body?.prompt_cache_key === id)

/** This bench's live processes: our workers and codex (its commands left out). */
const processes = () => {
  const out = []
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    if (!read(`/proc/${name}/environ`).includes(`BENCH_MARK=${mark}`)) continue
    const cmd = read(`/proc/${name}/cmdline`).split("\0")
    const kind = cmd.includes("__worker")
      ? "worker"
      : cmd[0]?.endsWith("/codex")
        ? "codex"
        : "command"
    out.push({ pid: Number(name), kind })
  }
  return out
}
const pssKiB = (pid) => Number(/^Pss:\s+(\d+)/m.exec(read(`/proc/${pid}/smaps_rollup`))?.[1] ?? 0)

const measure = async (backend) => {
  // 1. Queued turns: ten prompts queued while the first turn waits 5 s for its answer.
  const { id } = await start(backend, "First.\nDELAY:5000\nREPLY:first")
  const sent = await Promise.all(
    Array.from({ length: QUEUED }, (_, i) => cli$(["send", id, `Queued ${i}.\nREPLY:q${i}`])),
  )
  for (const r of sent) if (!r.includes("queued")) throw new Error(`send did not queue: ${r}`)
  await waitStopped(id, QUEUED + 1)
  const at = requestsOf(id).map((r) => r.receivedAt)
  const gaps = at.slice(2).map((t, i) => t - (at[i + 1] ?? t))

  // 3. Memory while one task runs `sleep 300`.
  const long = await start(backend, "Long.\nRUN:sleep 300\nREPLY:never")
  for (let i = 0; i < 300; i++) {
    if (processes().some((p) => read(`/proc/${p.pid}/cmdline`).startsWith("sleep"))) break
    await sleep(100)
  }
  await sleep(1000)
  const ps = processes()
  const pss = (kind) => ps.filter((p) => p.kind === kind).reduce((n, p) => n + pssKiB(p.pid), 0)
  const memory = { worker: pss("worker"), codex: pss("codex") }
  await cli$(["stop", long.id])
  for (let i = 0; i < 100 && processes().length > 0; i++) await sleep(100)
  return { gap: median(gaps), gaps, memory }
}

/** 2. start → id, the backends taking turns (the machine's load hits both alike). */
const startTimes = async () => {
  const times = { exec: [], "app-server": [] }
  for (let i = 0; i < STARTS; i++) {
    for (const backend of ["exec", "app-server"]) {
      const s = await start(backend, "REPLY:hi")
      times[backend].push(s.ms)
      await waitStopped(s.id)
    }
  }
  return times
}

const mb = (kib) => (kib / 1024).toFixed(1)
const results = {}
for (const backend of ["exec", "app-server"]) results[backend] = await measure(backend)
const starts = await startTimes()
for (const backend of ["exec", "app-server"]) results[backend].start = median(starts[backend])
console.log(
  `Node ${process.versions.node}; codex ${read(join(repo, "node_modules/@openai/codex/package.json")).match(/"version":\s*"([^"]+)"/)?.[1]}`,
)
for (const [backend, r] of Object.entries(results)) {
  console.log(
    `${backend.padEnd(10)} per queued turn ${r.gap.toFixed(0)} ms (gaps ${r.gaps.map((g) => g.toFixed(0)).join(" ")}); start → id ${r.start.toFixed(0)} ms; running task Pss ${mb(r.memory.worker + r.memory.codex)} MB (worker ${mb(r.memory.worker)}, codex ${mb(r.memory.codex)})`,
  )
}
const e = results.exec
const a = results["app-server"]
console.log(
  `app-server / exec: per queued turn ${(a.gap / e.gap).toFixed(2)} (target ≤ 0.33), start → id ${(a.start / e.start).toFixed(2)} (target ≤ 1.10), memory ${((a.memory.worker + a.memory.codex) / (e.memory.worker + e.memory.codex)).toFixed(2)} (target ≤ 1.00)`,
)
await server.close()
rmSync(work, { recursive: true, force: true })
rmSync(home, { recursive: true, force: true })
