// The app-server backend against exec, same run, same scripted model server (issue 22 §4):
// 1. overhead per queued turn: the gap between one queued prompt's model request and the next
//    one's (the scripted answers are instant, so the gap is what a turn costs around the
//    model), median over 20 queued prompts; target app-server ≤ 1/3 of exec;
// 2. `start` → id: median wall time of the CLI; target app-server ≤ exec + 10 %;
// 3. memory per running task (worker + codex) while a command runs, three tasks of each backend
//    running at once (so the machine's state is the same for both), median of 5 samples; target
//    ≤ exec. Private memory (USS: Private_Clean + Private_Dirty) is the figure to compare: Pss
//    splits codex's shared pages among every process mapping them, other users' codex included,
//    so it moves with whatever else runs on the machine. With one task per backend, the pages of
//    the codex binary that only `app-server` touches read as that one task's private memory,
//    though every further app-server task shares them: hence three of each.
// The CLI runs the native codex binary behind the npm package (exec/nativeCodex.ts) for both.
// Run after `npm run build`: node bench/app-server.mjs
import { randomUUID } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, node, nodeEnv, repo, run } from "./lib.mjs"

const QUEUED = 20
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
const rollup = (pid) => {
  const text = read(`/proc/${pid}/smaps_rollup`)
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0)
  return {
    rss: kib("Rss"),
    pss: kib("Pss"),
    uss: kib("Private_Clean") + kib("Private_Dirty"),
  }
}
const parentOf = (pid) => Number(read(`/proc/${pid}/stat`).split(") ")[1]?.split(" ")[1] ?? 0)

const measureTurns = async (backend) => {
  // 1. Queued turns: ten prompts queued while the first turn waits 5 s for its answer.
  const { id } = await start(backend, "First.\nDELAY:5000\nREPLY:first")
  const sent = await Promise.all(
    Array.from({ length: QUEUED }, (_, i) => cli$(["send", id, `Queued ${i}.\nREPLY:q${i}`])),
  )
  for (const r of sent) if (!r.includes("queued")) throw new Error(`send did not queue: ${r}`)
  await waitStopped(id, QUEUED + 1)
  const at = requestsOf(id).map((r) => r.receivedAt)
  const gaps = at.slice(2).map((t, i) => t - (at[i + 1] ?? t))
  return { gap: median(gaps), gaps }
}

/**
 * 3. Memory while TASKS tasks of each backend run `sleep 300`, all at once: per task, the mean
 * over its backend's tasks, median of 5 samples. Several of each, as a user runs them: pages of
 * the codex binary that only one backend touches are shared by that backend's processes, not
 * private to one task (with one task per backend they would count as that task's own).
 */
const TASKS = 3
const measureMemory = async () => {
  const tasks = { exec: [], "app-server": [] }
  for (let i = 0; i < TASKS; i++) {
    for (const backend of ["exec", "app-server"]) {
      tasks[backend].push(
        (await start(backend, `Long ${backend} ${i}.\nRUN:sleep 300\nREPLY:never`)).id,
      )
    }
  }
  for (let i = 0; i < 600; i++) {
    const sleeping = processes().filter((p) => read(`/proc/${p.pid}/cmdline`).startsWith("sleep"))
    if (sleeping.length >= 2 * TASKS) break
    await sleep(100)
  }
  await sleep(1000)
  const samples = { exec: [], "app-server": [] }
  for (let k = 0; k < 5; k++) {
    const ps = processes()
    for (const [backend, ids] of Object.entries(tasks)) {
      const per = ids.map((id) => {
        const worker = JSON.parse(read(join(work, "store", id, "worker.json")) || "{}").pid
        const codex = ps.filter((p) => p.kind === "codex" && parentOf(p.pid) === worker)
        const c = codex.map((p) => rollup(p.pid))
        const sum = (f) => c.reduce((n, r) => n + r[f], 0)
        return {
          worker: rollup(worker),
          codex: { rss: sum("rss"), pss: sum("pss"), uss: sum("uss") },
        }
      })
      const mean = (who, f) => per.reduce((n, x) => n + x[who][f], 0) / per.length
      samples[backend].push(
        Object.fromEntries(
          ["worker", "codex"].map((who) => [
            who,
            Object.fromEntries(["rss", "pss", "uss"].map((f) => [f, mean(who, f)])),
          ]),
        ),
      )
    }
    await sleep(1000)
  }
  for (const id of Object.values(tasks).flat()) await cli$(["stop", id])
  for (let i = 0; i < 100 && processes().length > 0; i++) await sleep(100)
  const med = (xs, f) => median(xs.map(f))
  return Object.fromEntries(
    Object.entries(samples).map(([backend, xs]) => [
      backend,
      Object.fromEntries(
        ["worker", "codex"].map((who) => [
          who,
          Object.fromEntries(["rss", "pss", "uss"].map((f) => [f, med(xs, (x) => x[who][f])])),
        ]),
      ),
    ]),
  )
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
for (const backend of ["exec", "app-server"]) results[backend] = await measureTurns(backend)
const memory = await measureMemory()
const starts = await startTimes()
for (const backend of ["exec", "app-server"]) results[backend].start = median(starts[backend])
console.log(
  `Node ${process.versions.node}; codex ${read(join(repo, "node_modules/@openai/codex/package.json")).match(/"version":\s*"([^"]+)"/)?.[1]}`,
)
const total = (m, f) => m.worker[f] + m.codex[f]
for (const [backend, r] of Object.entries(results)) {
  const m = memory[backend]
  const line = (f) =>
    `${f.toUpperCase()} ${mb(total(m, f))} MB (worker ${mb(m.worker[f])}, codex ${mb(m.codex[f])})`
  console.log(
    `${backend.padEnd(10)} per queued turn ${r.gap.toFixed(0)} ms (gaps ${r.gaps.map((g) => g.toFixed(0)).join(" ")}); start → id ${r.start.toFixed(0)} ms; running task (mean of ${TASKS}) ${line("uss")}, ${line("pss")}, ${line("rss")}`,
  )
}
const e = results.exec
const a = results["app-server"]
const ratio = (f) => (total(memory["app-server"], f) / total(memory.exec, f)).toFixed(2)
console.log(
  `app-server / exec: per queued turn ${(a.gap / e.gap).toFixed(2)} (target ≤ 0.33), start → id ${(a.start / e.start).toFixed(2)} (target ≤ 1.10), memory USS ${ratio("uss")} (target ≤ 1.00; Pss ${ratio("pss")}, RSS ${ratio("rss")})`,
)
await server.close()
rmSync(work, { recursive: true, force: true })
rmSync(home, { recursive: true, force: true })
