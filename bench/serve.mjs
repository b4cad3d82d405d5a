// Issue 23 numbers for `codex-tasks serve`, in real Chromium against the built CLI: a new log line
// visible in an open task view (median ms), the board of 1,000 tasks usable after load, `GET
// /api/tasks` of 1,000 tasks warm, serve's RSS before and after following a task that writes
// 100 MiB of log, and eight tabs all live. Needs `npm run build` and /usr/bin/chromium.
// Usage: node bench/serve.mjs [--tasks N] [--log-mib N] [--runs N]
import { spawn } from "node:child_process"
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { chromium } from "playwright-core"
import { cli, makeStore } from "./lib.mjs"

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const TASKS = option("--tasks", 1000)
const LOG_MIB = option("--log-mib", 100)
const RUNS = option("--runs", 21)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rssMiB = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return m === null ? Number.NaN : Number(m[1]) / 1024
}

const store = makeStore(TASKS)
const LIVE = "01a2ffff-0000-7000-8000-00000000beef"
mkdirSync(join(store, LIVE), { mode: 0o700 })
const at = new Date().toISOString()
writeFileSync(
  join(store, LIVE, "task.json"),
  JSON.stringify({
    id: LIVE,
    title: "the followed task",
    state: "STOPPED",
    created_at: at,
    updated_at: at,
    schema_version: 1,
  }),
)
const logPath = join(store, LIVE, "task.log")
writeFileSync(logPath, "")
const message = (text) =>
  `${JSON.stringify({ type: "item.completed", item: { id: "m", type: "agent_message", text } })}\n`

// serve of the built CLI (the launcher runs the bundle in its own process: one pid).
const serve = spawn(process.execPath, [cli, "serve", "--port", "0", "--store-root", store], {
  stdio: ["ignore", "pipe", "inherit"],
})
const url = await new Promise((resolve) => {
  let out = ""
  serve.stdout.on("data", (d) => {
    out += d
    if (out.includes("\n")) resolve(out.split("\n")[0])
  })
})
const origin = new URL(url).origin
const token = url.split("#token=")[1]
const browser = await chromium.launch({
  executablePath: process.env.CODEX_TASKS_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
})
try {
  // GET /api/tasks, warm.
  const api = []
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = performance.now()
    const r = await fetch(`${origin}/api/tasks`, { headers: { authorization: `Bearer ${token}` } })
    const body = await r.json()
    if (body.length !== TASKS + 1) throw new Error(`listed ${body.length}`)
    if (i >= 3) api.push(performance.now() - t0)
  }
  console.log(`GET /api/tasks of ${TASKS + 1} tasks (warm): median ${median(api).toFixed(1)} ms`)

  // The board usable: from navigation to its first screenful of rows (the page draws the rows
  // below it a chunk per frame after), and to every row in the table; median of 5 fresh tabs.
  const firsts = []
  const alls = []
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext()
    const tab = await context.newPage()
    const t0 = performance.now()
    await tab.goto(url)
    await tab.waitForFunction(() => document.querySelectorAll("#rows tr").length >= 50, null, {
      polling: "raf",
    })
    firsts.push(performance.now() - t0)
    await tab.waitForFunction(
      (n) => document.querySelectorAll("#rows tr").length === n,
      TASKS + 1,
      { polling: "raf" },
    )
    alls.push(performance.now() - t0)
    await context.close()
  }
  console.log(
    `board of ${TASKS + 1} tasks: first screenful after ${median(firsts).toFixed(0)} ms, every row after ${median(alls).toFixed(0)} ms (median of 5 loads)`,
  )
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForFunction((n) => document.querySelectorAll("#rows tr").length === n, TASKS + 1)

  // A new log line visible in the open task view.
  await page.evaluate((id) => {
    location.hash = `#task/${id}`
  }, LIVE)
  await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "live")
  const latencies = []
  for (let i = 0; i < RUNS; i++) {
    const marker = `marker-${i}-${Math.random().toString(36).slice(2)}`
    const seen = page.waitForFunction(
      (m) => document.querySelector("#transcript-text")?.textContent.includes(m),
      marker,
      { polling: "raf", timeout: 10_000 },
    )
    const start = performance.now()
    appendFileSync(logPath, message(marker))
    await seen
    latencies.push(performance.now() - start)
  }
  console.log(
    `new log line visible in the page: median ${median(latencies).toFixed(1)} ms (min ${Math.min(...latencies).toFixed(1)}, max ${Math.max(...latencies).toFixed(1)}, ${RUNS} lines)`,
  )

  // Following a task that writes LOG_MIB MiB of log: serve's RSS before, at most, and after.
  const before = rssMiB(serve.pid)
  let peak = before
  const output = Array.from(
    { length: 60 },
    (_, i) => `line ${i} of the command's output ${"x".repeat(40)}`,
  ).join("\n")
  const chunk = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({
      type: "item.completed",
      item: {
        id: `c${i}`,
        type: "command_execution",
        command: "make test",
        aggregated_output: output,
        exit_code: 0,
        status: "completed",
      },
    }),
  ).join("\n")
  const chunkBytes = Buffer.byteLength(chunk) + 1
  const chunks = Math.ceil((LOG_MIB * 1024 * 1024) / chunkBytes)
  for (let i = 0; i < chunks; i++) {
    appendFileSync(logPath, `${chunk}\n`)
    if (i % 20 === 0) {
      peak = Math.max(peak, rssMiB(serve.pid))
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  const end = `end-${Math.random().toString(36).slice(2)}`
  appendFileSync(logPath, message(end))
  await page.waitForFunction(
    (m) => document.querySelector("#transcript-text")?.textContent.includes(m),
    end,
    {
      timeout: 600_000,
    },
  )
  peak = Math.max(peak, rssMiB(serve.pid))
  await new Promise((r) => setTimeout(r, 2_000))
  const after = rssMiB(serve.pid)
  console.log(
    `serve RSS following a ${LOG_MIB} MiB log: before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, after ${after.toFixed(0)} MiB`,
  )

  // Eight tabs live: a task written to the store shows in all of them.
  const tabs = await browser.newContext()
  const pages = []
  for (let i = 0; i < 8; i++) {
    const tab = await tabs.newPage()
    await tab.goto(i === 0 ? url : `${origin}/`)
    await tab.waitForFunction(() => document.querySelector("#connection")?.textContent === "live")
    pages.push(tab)
  }
  const fresh = "01a2ffff-0000-7000-8000-00000000f00d"
  const tabsStart = performance.now()
  mkdirSync(join(store, fresh), { mode: 0o700 })
  writeFileSync(
    join(store, fresh, "task.json"),
    JSON.stringify({
      id: fresh,
      title: "seen by eight tabs",
      state: "STOPPED",
      created_at: at,
      updated_at: at,
      schema_version: 1,
    }),
  )
  const shown = await Promise.all(
    pages.map((tab) =>
      tab
        .waitForFunction(
          () => document.querySelector("#rows")?.textContent.includes("seen by eight tabs"),
          null,
          { timeout: 30_000 },
        )
        .then(() => performance.now() - tabsStart),
    ),
  )
  console.log(
    `eight tabs live: ${shown.length}/8 showed a new task, the last after ${Math.max(...shown).toFixed(0)} ms`,
  )
} finally {
  await browser.close()
  serve.kill("SIGTERM")
  await new Promise((r) => serve.on("exit", r))
  rmSync(store, { recursive: true, force: true })
}
