#!/usr/bin/env node
// `npm run demo`: a real codex-tasks lifecycle with the real `codex` binary against the project's
// scripted model server on 127.0.0.1 (no OpenAI account, no network). Prints each command before
// its output, checks its own outcome, and removes every process and temp dir it made.
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..")
const cli = join(repo, "dist/bin/codex-tasks.js")
const codex = join(repo, "node_modules/.bin/codex")
if (!existsSync(cli)) {
  console.error("dist/ is missing: run `npm run build` (npm ci does it) first.")
  process.exit(1)
}
const { startModelServer, makeCodexHome } = await import(join(repo, "dist/testing/index.js"))

const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s)
const server = await startModelServer()
const codexHome = await makeCodexHome(server)
const work = mkdtempSync(join(tmpdir(), "codex-tasks-demo-"))
const store = join(work, "store")
const env = {
  ...process.env,
  CODEX_HOME: codexHome,
  HOME: join(codexHome, "home"), // commands run in login shells: keep the machine's profile out
  CODEX_TASKS_HOME: store,
  CODEX_TASKS_CODEX_BIN: codex,
  OPENAI_API_KEY: "dummy",
  NO_COLOR: "1",
}
let failures = 0

const show = (args) =>
  args
    .map((a) => (/[\s'"|;]/.test(a) ? `'${a.replace(/'/g, "'\\''").replace(/\n/g, "\\n")}'` : a))
    .join(" ")
// Asynchronous on purpose: the scripted model server lives in this process's event loop.
const exec = (args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env,
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c) => (stdout += c))
    child.stderr.on("data", (c) => (stderr += c))
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })
const run = async (args, { expect = 0, quiet = false } = {}) => {
  console.log(bold(`\n$ codex-tasks ${show(args)}`))
  const r = await exec(args)
  if (!quiet) process.stdout.write(r.stdout)
  if (r.stderr) process.stdout.write(r.stderr)
  if (r.status !== expect) {
    failures++
    console.log(`!! expected exit ${expect}, got ${r.status}`)
  }
  return r.stdout.trim()
}
// Every process of a task's runs carries CODEX_TASKS_RUN_ID=<run_id of run.json> in its environment.
const processesOf = (id) => {
  const runId = JSON.parse(readFileSync(join(store, id, "run.json"), "utf8")).run_id
  return readdirSync("/proc").filter((pid) => {
    try {
      return (
        /^\d+$/.test(pid) &&
        readFileSync(`/proc/${pid}/environ`, "latin1").includes(`CODEX_TASKS_RUN_ID=${runId}`)
      )
    } catch {
      return false
    }
  })
}
const check = (ok, what) => {
  console.log(`${ok ? "✓" : "✗"} ${what}`)
  if (!ok) failures++
}

try {
  console.log(
    bold("codex-tasks demo — the model is SCRIPTED (a local fake OpenAI Responses server);"),
  )
  console.log(
    bold("codex itself is the real @openai/codex binary. Prompts carry directives such as"),
  )
  console.log(bold("RUN:<command> and REPLY:<text> that tell the scripted model what to do."))
  const common = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]

  const id1 = await run([
    "start",
    ...common,
    "-t",
    "list files",
    "List the files here.\nRUN:echo hello > demo.txt; ls\nREPLY:I created demo.txt and listed the directory.",
  ])
  await run(["log", "-f", id1])
  check(
    (await run(["status", "--json", id1], { quiet: true })).includes('"state": "STOPPED"'),
    "the first task finished (STOPPED)",
  )

  const id2 = await run([
    "start",
    ...common,
    "-t",
    "slow task",
    "Think slowly.\nDELAY:3000\nREPLY:Done thinking.",
  ])
  await run(["send", id2, "And a follow-up.\nREPLY:Follow-up answered."])
  await run(["status", id2])
  await run(["ls"])
  await run(["status", "--wait", "--timeout", "60", id2])
  check(
    (await run(["log", "--json", id2], { quiet: true })).includes("Follow-up answered."),
    "the queued follow-up ran after the first turn",
  )

  const id3 = await run([
    "start",
    ...common,
    "-t",
    "long command",
    "Run something long.\nRUN:sleep 300\nREPLY:never",
  ])
  await new Promise((r) => setTimeout(r, 2000))
  await run(["stop", id3])
  const status3 = await run(["status", "--json", id3], { quiet: true })
  check(
    status3.includes('"state": "STOPPED"') && status3.includes('"interrupted"'),
    "the long turn was interrupted (STOPPED)",
  )
  check(
    processesOf(id3).length === 0,
    "no process of the stopped task is left (worker, codex, sleep)",
  )

  await run(["archive", "--all"])
  await run(["ls", "--all"])
  check(existsSync(join(store, "archive")), "tasks were archived under archive/YYYY/MM/DD/")
} finally {
  await exec(["stop", "--all"])
  await server.close()
  rmSync(work, { recursive: true, force: true })
  rmSync(codexHome, { recursive: true, force: true })
}
console.log(bold(`\ndemo ${failures === 0 ? "succeeded" : `FAILED (${failures} problem(s))`}`))
process.exit(failures === 0 ? 0 : 1)
