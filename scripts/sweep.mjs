#!/usr/bin/env node
// The crash-consistency sweep, real processes (issue 20 §1, docs/faults.md). For a scenario and a
// role: one run in trace mode lists the fault points the role passes; then, for each point k,
// the scenario runs with the role's processes SIGKILLed at their k-th point
// (CODEX_TASKS_FAULTS=role=R;crash-at=k), followed by the fixed recovery (`status -a`, a `send` to
// every task, `stop -a`, `status --wait -a`) and the invariant checks:
//   1 every record decodes; no half-written file (an atomic write's temp file) is left;
//   2 every acknowledged prompt ran exactly once or was visibly dropped; no prompt ran twice;
//   3 no process of the sandbox is alive after `stop -a`;
//   4 no task reads RUNNING at the end; every command exits with a documented code, in time,
//     without a stack trace.
// Prints `points P, runs R, violations V` and each violation. Exit 1 when there is any.
//
//   npm run build && npm run sweep -- [--scenario NAME|all] [--role cli|worker|mcp|all] [--limit N]
//                                     [--mode crash|enospc|torn|readonly|fuzz] [--file PART]
//                                     [--quick] [--verbose]
//                                     [--at K] [--keep]
// --quick (CI, at the end of `npm test`): every scenario, one point per role (the middle one), then
// the fuzz of a task.json. Uses dist/bin/codex-tasks.js and the fake codex scripts/sweep-codex.mjs.
import { spawnSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))
const CLI = join(here, "..", "dist", "bin", "codex-tasks.js")
const FAKE_CODEX = join(here, "sweep-codex.mjs")
const DOCUMENTED_EXITS = new Set([0, 1, 2, 3, 124, 130])

const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const value = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}
const quick = flag("--quick")
const verbose = flag("--verbose")
const keep = flag("--keep")
const limit = Number(value("--limit", quick ? "1" : "0"))

if (!existsSync(CLI)) {
  console.error("sweep: dist/bin/codex-tasks.js is missing: run `npm run build` first")
  process.exit(2)
}

// ---- one sandbox: store, working directory, ledger, the CLI's environment --------------------

const makeSandbox = () => {
  const base = mkdtempSync(join(tmpdir(), "ct-sweep-"))
  const mark = randomUUID()
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("CODEX_TASKS_")),
  )
  return {
    base,
    store: join(base, "store"),
    ledger: join(base, "ledger.jsonl"),
    mark,
    env: {
      ...clean,
      HOME: base,
      CODEX_TASKS_HOME: join(base, "store"),
      CODEX_TASKS_CODEX_BIN: FAKE_CODEX,
      CODEX_TASKS_NATIVE_CODEX: "0",
      CODEX_TASKS_MAX_RETRIES: "0",
      SWEEP_LEDGER: join(base, "ledger.jsonl"),
      SWEEP_MARK: mark,
      SWEEP_TURN_MS: "100",
    },
    commands: [],
  }
}

/** Runs the CLI; records what a check needs. `faults` is the plan (none for recovery commands). */
const cli = (box, args, { faults, timeoutMs = 30_000, env = {}, input } = {}) => {
  const started = Date.now()
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: box.base,
    ...(input === undefined ? {} : { input }),
    env: {
      ...box.env,
      ...env,
      ...(faults === undefined ? {} : { CODEX_TASKS_FAULTS: faults }),
    },
    encoding: "utf8",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 512 * 1024 * 1024,
  })
  const result = {
    args,
    faulted: faults !== undefined,
    status: r.status,
    signal: r.signal,
    timedOut: r.error?.code === "ETIMEDOUT",
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    ms: Date.now() - started,
  }
  box.commands.push(result)
  if (verbose) {
    console.log(
      `    $ ${args.join(" ")} -> ${r.status ?? r.signal}${faults ? ` [${faults}]` : ""}` +
        (result.stderr.trim() ? `\n      stderr: ${result.stderr.trim().split("\n")[0]}` : ""),
    )
  }
  return result
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

const ledger = (box) =>
  existsSync(box.ledger)
    ? readFileSync(box.ledger, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l))
    : []

/** Waits (real time, bounded) until the fake codex saw `prompt`. */
const untilSeen = (box, prompt, ms = 5_000) => {
  for (const end = Date.now() + ms; Date.now() < end; sleep(25)) {
    if (ledger(box).some((e) => e.prompt === prompt)) return true
  }
  return false
}

const jsonOf = (r) => {
  try {
    return JSON.parse(r.stdout)
  } catch {
    return undefined
  }
}

// ---- scenarios: what runs under the plan, and which prompts each step acknowledges ----------
// A step's `for` lists the roles whose plan its command carries (the worker's plan rides with
// the command that spawns the worker). Each role has one faulted process per scenario.

const start = (box, prompt, faults, extra = []) => {
  const r = cli(box, ["start", "--json", "--skip-git-repo-check", ...extra, prompt], { faults })
  const id = r.status === 0 ? jsonOf(r)?.id : undefined
  if (id !== undefined) box.acked.push({ id, prompt })
  return id
}

const send = (box, id, prompt, faults) => {
  const r = cli(box, ["send", "--json", id, prompt], { faults })
  if (r.status === 0) box.acked.push({ id, prompt })
  return r
}

/**
 * One `codex-tasks mcp` session on stdin/stdout: initialize, then a `tools/call`; returns the
 * call's structured result (undefined when it failed or the server died).
 */
const mcpCall = (box, tool, args, faults) => {
  const messages = [
    {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "sweep", version: "1" },
      },
    },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: tool, arguments: args } },
  ]
  const r = cli(box, ["mcp"], {
    faults,
    input: messages.map((m) => `${JSON.stringify(m)}\n`).join(""),
  })
  for (const line of r.stdout.split("\n")) {
    try {
      const reply = JSON.parse(line)
      if (reply.id === 2 && reply.result?.isError !== true) return reply.result?.structuredContent
    } catch {}
  }
  return undefined
}

const settle = (box) =>
  cli(box, ["status", "--wait", "-a", "--timeout", "30"], { timeoutMs: 45_000 })

const SCENARIOS = {
  start: {
    roles: ["cli", "worker"],
    single: true,
    run: (box, plan) => {
      start(box, box.p("one"), plan)
      settle(box)
    },
  },
  "start-queued": {
    roles: ["cli", "worker"],
    run: (box, plan) => {
      box.env.SWEEP_TURN_MS = "600"
      const id = start(box, box.p("one"), plan.worker)
      if (id !== undefined) {
        send(box, id, box.p("two"), plan.cli)
        send(box, id, box.p("three"))
      }
      settle(box)
    },
  },
  "send-idle": {
    roles: ["cli", "worker"],
    single: true,
    run: (box, plan) => {
      const id = start(box, box.p("zero"))
      settle(box)
      if (id !== undefined) send(box, id, box.p("one"), plan)
      settle(box)
    },
  },
  stop: {
    roles: ["cli", "worker"],
    run: (box, plan) => {
      box.env.SWEEP_TURN_MS = "3000"
      const id = start(box, box.p("one"), plan.worker)
      if (id !== undefined) {
        send(box, id, box.p("two"))
        untilSeen(box, box.p("one"))
        cli(box, ["stop", "--timeout", "5", id], { faults: plan.cli })
      }
      settle(box)
    },
  },
  "stop-after-turn": {
    roles: ["cli", "worker"],
    run: (box, plan) => {
      box.env.SWEEP_TURN_MS = "1500"
      const id = start(box, box.p("one"), plan.worker)
      if (id !== undefined) {
        send(box, id, box.p("two"))
        untilSeen(box, box.p("one"))
        cli(box, ["stop", "--after-turn", "--timeout", "10", id], { faults: plan.cli })
      }
      settle(box)
    },
  },
  "mcp-start": {
    roles: ["mcp", "worker"],
    single: true,
    run: (box, plan) => {
      const prompt = box.p("one")
      const started = mcpCall(box, "task_start", { prompt, skipGitRepoCheck: true }, plan)
      if (started?.id !== undefined) box.acked.push({ id: started.id, prompt })
      settle(box)
    },
  },
  "mcp-send": {
    roles: ["mcp", "worker"],
    single: true,
    run: (box, plan) => {
      const id = start(box, box.p("zero"))
      settle(box)
      if (id === undefined) return
      const prompt = box.p("one")
      if (mcpCall(box, "task_send", { taskId: id, prompt }, plan) !== undefined) {
        box.acked.push({ id, prompt })
      }
      settle(box)
    },
  },
  "stop-timeout": {
    roles: ["cli", "worker"],
    run: (box, plan) => {
      box.env.SWEEP_TURN_MS = "4000"
      box.env.SWEEP_IGNORE_SIGINT = "1"
      const id = start(box, box.p("one"), plan.worker)
      if (id !== undefined) {
        send(box, id, box.p("two"))
        untilSeen(box, box.p("one"))
        cli(box, ["stop", "--timeout", "1", id], { faults: plan.cli })
      }
      settle(box)
    },
  },
  archive: {
    roles: ["cli"],
    single: true,
    run: (box, plan) => {
      const id = start(box, box.p("one"))
      settle(box)
      if (id !== undefined) cli(box, ["archive", id], { faults: plan })
    },
  },
  "worktree-start": {
    roles: ["cli", "worker"],
    single: true,
    run: (box, plan) => {
      start(box, box.p("one"), plan, worktreeArgs(box))
      settle(box)
    },
  },
  "worktree-apply": {
    roles: ["cli"],
    single: true,
    run: (box, plan) => {
      const id = start(box, box.p("one"), undefined, worktreeArgs(box))
      settle(box)
      if (id !== undefined) cli(box, ["apply", "--commit", id], { faults: plan })
    },
  },
  "worktree-archive": {
    roles: ["cli"],
    single: true,
    run: (box, plan) => {
      const id = start(box, box.p("one"), undefined, worktreeArgs(box))
      settle(box)
      if (id !== undefined) cli(box, ["archive", id], { faults: plan })
    },
  },
  "slot-wait": {
    roles: ["cli", "worker"],
    single: true,
    run: (box, plan) => {
      box.env.SWEEP_TURN_MS = "800"
      box.env.CODEX_TASKS_MAX_RUNNING = "1"
      box.env.SWEEP_MAX_RUNNING = "1"
      box.env.SWEEP_RUNNING_DIR = join(box.base, "running")
      start(box, box.p("first"))
      start(box, box.p("second"), plan)
      settle(box)
    },
  },
  "usage-limit": {
    roles: ["cli", "worker"],
    single: true,
    run: (box, plan) => {
      box.env.SWEEP_LIMIT_ONCE = join(box.base, "limit-once")
      box.env.CODEX_TASKS_LIMIT_WAIT_FLOOR = "1s"
      start(box, box.p("LIMIT one"), plan)
      settle(box)
    },
  },
  budget: {
    roles: ["cli", "worker"],
    run: (box, plan) => {
      box.env.SWEEP_TURN_MS = "600"
      const id = start(box, box.p("one"), plan.worker, ["--max-tokens", "25"])
      if (id !== undefined) {
        send(box, id, box.p("two"), plan.cli)
        send(box, id, box.p("three"))
      }
      settle(box)
    },
  },
}

/** A git repository in the sandbox, and the `start` options of a worktree task in it. */
const worktreeArgs = (box) => {
  const repo = join(box.base, "repo")
  if (!existsSync(repo)) {
    const git = (...args) =>
      spawnSync("git", args, { cwd: repo, env: box.env, encoding: "utf8", stdio: "ignore" })
    spawnSync("git", ["init", "-q", "-b", "main", repo], { env: box.env, stdio: "ignore" })
    git("config", "user.name", "sweep")
    git("config", "user.email", "sweep@example.invalid")
    writeFileSync(join(repo, "README"), "sweep\n")
    git("add", "README")
    git("commit", "-q", "-m", "init")
  }
  box.env.SWEEP_WRITE = "1"
  return ["--working-dir", repo, "--worktree"]
}

// A scenario's plan argument: one string when one step carries it (`single`), else per role.
const planFor = (name, role, plan) =>
  SCENARIOS[name].single
    ? plan
    : { cli: role === "cli" ? plan : undefined, worker: role === "worker" ? plan : undefined }

// ---- recovery and checks --------------------------------------------------------------------

const taskDirs = (box) => {
  const dirs = []
  if (!existsSync(box.store)) return dirs
  for (const name of readdirSync(box.store)) {
    const dir = join(box.store, name)
    if (!name.startsWith(".") && name !== "archive" && statSync(dir).isDirectory()) dirs.push(dir)
  }
  return dirs
}

const recover = (box) => {
  cli(box, ["status", "-a"])
  for (const dir of taskDirs(box)) {
    if (!existsSync(join(dir, "task.json"))) continue
    const id = dir.split("/").at(-1)
    send(box, id, box.p(`recover-${id.slice(-4)}`))
  }
  cli(box, ["stop", "-a", "--timeout", "10"], { timeoutMs: 45_000 })
  settle(box)
}

/** Processes carrying the sandbox's mark (workers, fake codex runs). */
const markedProcesses = (mark) => {
  const found = []
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8")
      if (!env.includes(`SWEEP_MARK=${mark}`)) continue
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue
      found.push({ pid, cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ") })
    } catch {}
  }
  return found
}

const TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/

const walk = (dir, visit) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path, visit)
    else visit(path, entry.name)
  }
}

const check = (box) => {
  const violations = []
  const v = (invariant, what) => violations.push(`inv${invariant}: ${what}`)
  const rel = (p) => p.slice(box.store.length + 1)
  // 1: records decode; no atomic temp file left behind (outside the scratch dir .tmp/)
  if (existsSync(box.store)) {
    walk(box.store, (path, name) => {
      const r = rel(path)
      if (r.startsWith(".tmp/")) return
      if (TEMP.test(name)) return v(1, `half-written temp file left: ${r}`)
      const text = () => readFileSync(path, "utf8")
      try {
        if (name.endsWith(".json") || name.endsWith(".inflight") || name === ".usage-limit.json") {
          JSON.parse(text())
        } else if (name === "task.log") {
          const lines = text().split("\n")
          if (lines.at(-1) !== "") v(1, `${r} ends with a partial line`)
          lines.forEach((line) => {
            if (line !== "") JSON.parse(line)
          })
        } else if (name === ".seq") {
          if (!/^\d+\n$/.test(text())) v(1, `${r} is not a number`)
        }
      } catch (e) {
        v(1, `${r} does not decode: ${e.message}`)
      }
    })
  }
  for (const dir of taskDirs(box)) {
    if (!existsSync(join(dir, "task.json"))) {
      v(
        1,
        `directory without task.json left in the store: ${rel(dir)} (${readdirSync(dir).join(", ")})`,
      )
    }
  }
  // 2: prompts
  const seen = new Map()
  for (const e of ledger(box)) {
    if (e.overlap !== undefined) v(3, `${e.overlap} codex runs at once with --max-running ${e.max}`)
    else seen.set(e.prompt, (seen.get(e.prompt) ?? 0) + 1)
  }
  for (const [prompt, n] of seen) if (n > 1) v(2, `prompt ${prompt} ran ${n} times`)
  const logs = taskDirs(box)
    .map((d) => join(d, "task.log"))
    .concat(
      existsSync(join(box.store, "archive"))
        ? (() => {
            const found = []
            walk(join(box.store, "archive"), (p, n) => n === "task.log" && found.push(p))
            return found
          })()
        : [],
    )
    .filter(existsSync)
    .map((p) => readFileSync(p, "utf8"))
    .join("\n")
  // A turn the worker began (its `user_message` entry) ran, even when a stop cut it before the
  // model saw the prompt.
  const dropped = new Set()
  const begun = new Set()
  for (const line of logs.split("\n")) {
    if (!line.includes('"prompts_dropped"') && !line.includes('"user_message"')) continue
    try {
      const entry = JSON.parse(line)
      if (entry.type === "user_message") begun.add(entry.message)
      for (const p of entry.prompts ?? []) dropped.add(p)
    } catch {}
  }
  for (const { id, prompt } of box.acked) {
    if (!seen.has(prompt) && !begun.has(prompt) && !dropped.has(prompt)) {
      v(2, `acknowledged prompt ${prompt} (task ${id.slice(-8)}) neither ran nor was dropped`)
    }
    if (seen.has(prompt) && dropped.has(prompt)) {
      // a prompt a lost worker had taken may have run and is dropped as such: that is true
      if (!logs.includes("its worker was lost")) v(2, `prompt ${prompt} ran and was dropped`)
    }
  }
  // 3: nothing of the sandbox alive after stop -a
  for (const p of markedProcesses(box.mark)) v(3, `process alive after stop -a: ${p.pid} ${p.cmd}`)
  // 4: commands, final states
  for (const c of box.commands) {
    const what = `\`${c.args.slice(0, 2).join(" ")}\``
    if (c.timedOut) v(4, `${what} did not end within its timeout`)
    else if (c.faulted && c.signal === "SIGKILL") continue
    else if (c.status === null) v(4, `${what} ended by ${c.signal}`)
    else if (!DOCUMENTED_EXITS.has(c.status)) v(4, `${what} exited ${c.status}`)
    if (/^\s+at .+:\d+:\d+\)?$/m.test(c.stderr) || /internal error|defect/i.test(c.stderr)) {
      v(4, `${what} printed a stack trace or internal error: ${c.stderr.trim().split("\n")[0]}`)
    }
  }
  const final = cli(box, ["status", "--json", "-a"])
  const tasks = jsonOf(final)
  if (!Array.isArray(tasks)) v(4, `final \`status --json -a\` unreadable (exit ${final.status})`)
  else for (const t of tasks) if (t.state === "RUNNING") v(4, `task ${t.id} still RUNNING`)
  return violations
}

/** Kills what is left of a sandbox's processes and removes it (unless --keep). */
const discard = (box) => {
  for (const p of markedProcesses(box.mark)) {
    try {
      process.kill(Number(p.pid), "SIGKILL")
    } catch {}
  }
  if (!keep) rmSync(box.base, { recursive: true, force: true })
}

// ---- the sweep --------------------------------------------------------------------------------

const runOnce = (scenario, name, role, plan, label) => {
  const box = makeSandbox()
  box.acked = []
  box.p = (tag) => `sweep ${label} ${tag}`
  try {
    scenario.run(box, planFor(name, role, plan))
    if (plan?.includes("trace=")) return { box, violations: [] }
    recover(box)
    return { box, violations: check(box) }
  } finally {
    discard(box)
  }
}

/** The scenario under a read-only store for `role`; then reads under it, recovery, checks. */
const runReadonly = (scenario, name, role) => {
  const box = makeSandbox()
  box.acked = []
  box.p = (tag) => `sweep readonly ${tag}`
  try {
    scenario.run(box, planFor(name, role, `role=${role};readonly`))
    const violations = []
    for (const args of [["status", "-a"], ["ls"], ["status", "--json", "-a"]]) {
      const r = cli(box, args, { faults: "role=cli;readonly" })
      if (r.status !== 0) {
        violations.push(
          `read \`${args.join(" ")}\` failed under a read-only store: exit ${r.status}: ${r.stderr.trim().split("\n")[0]}`,
        )
      }
    }
    recover(box)
    return { box, violations: [...violations, ...check(box)] }
  } finally {
    discard(box)
  }
}

const tracePoints = (scenario, name, role) => {
  const trace = join(mkdtempSync(join(tmpdir(), "ct-sweep-trace-")), "trace")
  runOnce(scenario, name, role, `role=${role};trace=${trace}`, "trace")
  const lines = existsSync(trace) ? readFileSync(trace, "utf8").split("\n").filter(Boolean) : []
  rmSync(join(trace, ".."), { recursive: true, force: true })
  // per process: its points in order; the longest list is the role's
  const byPid = new Map()
  for (const line of lines) {
    const [, pid, , point, detail] = line.split(" ")
    byPid.set(pid, [...(byPid.get(pid) ?? []), `${point}@${detail}`])
  }
  return [...byPid.values()].sort((a, b) => b.length - a.length)[0] ?? []
}

// ---- --mode fuzz: every stored file damaged in every way ----------------------------------
// A settled store with two tasks (A: two turns and a usage-limit record behind it, B: one turn)
// is copied back before each case; one file is damaged (truncated, torn, emptied, wrong types,
// huge strings, invalid UTF-8); then reads (`status -a`, `ls`, `status --json -a`, `log A`), a
// `send` to each task, `status --wait -a` and `stop -a` run. A damaged file must never stop the
// other task, nor the damaged task's later prompts; every command exits with a documented code,
// in time, without a stack trace.

const HUGE = "x".repeat(4 * 1024 * 1024)

/** Each value of a JSON tree turned into another type (strings→numbers, numbers→strings, …). */
const wrongTypes = (value) => {
  if (typeof value === "string") return 7
  if (typeof value === "number") return "seven"
  if (typeof value === "boolean") return []
  if (Array.isArray(value)) return { 0: value[0] ?? null }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrongTypes(v)]))
  }
  return { null: true }
}

/** Every string of a JSON tree made 4 MiB long. */
const hugeStrings = (value) => {
  if (typeof value === "string") return HUGE
  if (Array.isArray(value)) return value.map(hugeStrings)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hugeStrings(v)]))
  }
  return value
}

/** Applies `f` to each JSON line of a JSONL text (or to the one JSON document). */
const eachJson = (text, f, jsonl) => {
  const lines = text.split("\n")
  if (jsonl) {
    return lines
      .map((l) => {
        try {
          return l === "" ? l : JSON.stringify(f(JSON.parse(l)))
        } catch {
          return l
        }
      })
      .join("\n")
  }
  try {
    return `${JSON.stringify(f(JSON.parse(text)), null, 2)}\n`
  } catch {
    return undefined
  }
}

const DAMAGES = {
  truncated: (buf) => buf.subarray(0, Math.floor(buf.length / 2)),
  torn: (buf) => Buffer.concat([buf, Buffer.from('{"type":"item.completed","item":{"id":"it')]),
  empty: () => Buffer.alloc(0),
  "wrong-types": (buf, jsonl) => {
    const out = eachJson(buf.toString("utf8"), wrongTypes, jsonl)
    return out === undefined ? Buffer.from("seven") : Buffer.from(out)
  },
  huge: (buf, jsonl) => {
    const out = eachJson(buf.toString("utf8"), hugeStrings, jsonl)
    return out === undefined ? Buffer.concat([buf, Buffer.from(HUGE)]) : Buffer.from(out)
  },
  "invalid-utf8": (buf) => {
    const at = Math.floor(buf.length / 2)
    return Buffer.concat([buf.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), buf.subarray(at)])
  },
}

function fuzz(only = value("--file", undefined), firstTaskOnly = false) {
  const box = makeSandbox()
  box.acked = []
  box.p = (tag) => `fuzz ${tag}`
  const began = Date.now()
  const found = []
  let runs = 0
  try {
    box.env.SWEEP_LIMIT_ONCE = join(box.base, "limit-once")
    box.env.CODEX_TASKS_LIMIT_WAIT_FLOOR = "1s"
    const a = start(box, "fuzz LIMIT A one")
    settle(box)
    const b = start(box, "fuzz B one")
    settle(box)
    if (a === undefined || b === undefined) {
      console.error("sweep: fuzz could not make its base store")
      return 2
    }
    send(box, a, "fuzz A two")
    settle(box)
    const base = join(box.base, "base-store")
    cpSync(box.store, base, { recursive: true })
    const files = []
    walk(base, (path) => files.push(path.slice(base.length + 1)))
    const cases = files
      .filter((f) => only === undefined || f.includes(only))
      .filter((f) => !firstTaskOnly || f === `${a}/task.json`)
      .flatMap((file) => Object.keys(DAMAGES).map((damage) => ({ file, damage })))
    console.log(`fuzz: ${files.length} files, ${cases.length} cases`)
    for (const { file, damage } of cases) {
      rmSync(box.store, { recursive: true, force: true })
      cpSync(base, box.store, { recursive: true })
      rmSync(box.ledger, { force: true })
      box.commands = []
      const path = join(box.store, file)
      writeFileSync(path, DAMAGES[damage](readFileSync(path), file.endsWith(".log")))
      const [damaged, other] = file.startsWith(b) ? [b, a] : [a, b]
      const violations = fuzzCase(box, damaged, other, file, damage)
      runs++
      for (const violation of violations) {
        const line = `fuzz ${file} ${damage}: ${violation}`
        found.push(line)
        console.log(`  VIOLATION ${line}`)
      }
      if (verbose && violations.length === 0) console.log(`  ok ${file} ${damage}`)
    }
  } finally {
    discard(box)
  }
  console.log(
    `points 0, runs ${runs}, violations ${found.length} (${Math.round((Date.now() - began) / 1000)} s)`,
  )
  return found.length > 0 ? 1 : 0
}

/** One damaged store: reads, a send to each task, wait, stop; what went wrong. */
const fuzzCase = (box, damaged, other, file, damage) => {
  const violations = []
  const v = (invariant, what) => violations.push(`inv${invariant}: ${what}`)
  cli(box, ["status", "-a"])
  cli(box, ["ls"])
  cli(box, ["status", "--json", "-a"])
  cli(box, ["log", damaged])
  const tag = `${file.replaceAll("/", "_")}-${damage}`
  const afterA = `fuzz damaged after ${tag}`
  const afterB = `fuzz other after ${tag}`
  const sentA = send(box, damaged, afterA)
  const sentB = send(box, other, afterB)
  settle(box)
  cli(box, ["stop", "-a", "--timeout", "10"], { timeoutMs: 45_000 })
  const ran = new Set(ledger(box).map((e) => e.prompt))
  if (sentB.status !== 0)
    v(2, `send to the other task failed: ${sentB.stderr.trim().split("\n")[0]}`)
  else if (!ran.has(afterB)) v(2, "the other task's prompt did not run")
  if (sentA.status !== 0) {
    v(
      2,
      `send to the damaged task failed: exit ${sentA.status}: ${sentA.stderr.trim().split("\n")[0]}`,
    )
  } else if (!ran.has(afterA)) v(2, "the damaged task's later prompt did not run")
  for (const c of box.commands) {
    const what = `\`${c.args.slice(0, 2).join(" ")}\``
    if (c.timedOut) v(4, `${what} did not end within its timeout`)
    else if (c.status === null) v(4, `${what} ended by ${c.signal}`)
    else if (!DOCUMENTED_EXITS.has(c.status)) v(4, `${what} exited ${c.status}`)
    if (/^\s+at .+:\d+:\d+\)?$/m.test(c.stderr) || /internal error|defect/i.test(c.stderr)) {
      v(4, `${what} printed a stack trace or internal error: ${c.stderr.trim().split("\n")[0]}`)
    }
  }
  for (const p of markedProcesses(box.mark)) v(3, `process alive after stop -a: ${p.pid} ${p.cmd}`)
  return violations
}

// --mode: crash (SIGKILL at point k), enospc (ENOSPC from point k on), torn (the k-th log
// append torn, then SIGKILL: k counts appends), readonly (every write fails; one run, and the
// reads `status -a` and `ls` must still work under it).
const mode = value("--mode", "crash")
if (!["crash", "enospc", "torn", "readonly", "fuzz"].includes(mode)) {
  console.error(`sweep: unknown mode ${mode} (crash, enospc, torn, readonly, fuzz)`)
  process.exit(2)
}
if (mode === "fuzz") process.exit(fuzz())
const planOf = (role, k) =>
  `role=${role};${mode === "crash" ? "crash-at" : mode === "enospc" ? "enospc-from" : "torn-append"}=${k}`

const pick = (n, count) => {
  const all = Array.from({ length: n }, (_, i) => i + 1)
  if (count <= 0 || count >= n) return all
  return Array.from({ length: count }, (_, i) => all[Math.floor(((i + 0.5) * n) / count)])
}

const names =
  value("--scenario", "all") === "all"
    ? Object.keys(SCENARIOS)
    : value("--scenario", "all").split(",")
const roles =
  value("--role", "all") === "all" ? ["cli", "worker", "mcp"] : value("--role").split(",")
let totalPoints = 0
let totalRuns = 0
const found = []
const began = Date.now()
for (const name of names) {
  const scenario = SCENARIOS[name]
  if (scenario === undefined) {
    console.error(`sweep: unknown scenario ${name} (${Object.keys(SCENARIOS).join(", ")})`)
    process.exit(2)
  }
  for (const role of roles.filter((r) => scenario.roles.includes(r))) {
    if (mode === "readonly") {
      const { box, violations } = runReadonly(scenario, name, role)
      totalRuns++
      for (const violation of violations) {
        const line = `${name} / ${role} / read-only store: ${violation}`
        found.push(line)
        console.log(`  VIOLATION ${line}`)
      }
      void box
      continue
    }
    const traced = tracePoints(scenario, name, role)
    const points = mode === "torn" ? traced.filter((p) => p.startsWith("log.append@")) : traced
    totalPoints += points.length
    console.log(`${name} / ${role}: ${points.length} points`)
    if (verbose) for (const [i, p] of points.entries()) console.log(`  ${i + 1} ${p}`)
    const only = value("--at", undefined)
    for (const k of only === undefined ? pick(points.length, limit) : [Number(only)]) {
      const { violations } = runOnce(scenario, name, role, planOf(role, k), `${k}`)
      totalRuns++
      for (const violation of violations) {
        const line = `${name} / ${role} / crash at ${k} (${points[k - 1]}): ${violation}`
        found.push(line)
        console.log(`  VIOLATION ${line}`)
      }
      if (verbose && violations.length === 0) console.log(`  ok crash at ${k} (${points[k - 1]})`)
    }
  }
}
console.log(
  `points ${totalPoints}, runs ${totalRuns}, violations ${found.length} (${Math.round((Date.now() - began) / 1000)} s)`,
)
// --quick also damages one task's task.json six ways (its backup takes over).
const fuzzed = quick ? fuzz("task.json", true) : 0
process.exit(found.length > 0 || fuzzed !== 0 ? 1 : 0)
