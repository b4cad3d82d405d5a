// Where a `start` spends its time: one traced run (strace -f, so every figure is inflated ~2×;
// compare steps, not totals). Prints when each step happened, in ms after the CLI's execve.
// Needs strace on PATH. `node bench/trace-start.mjs [--node PATH]`.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, node, nodeEnv, repo } from "./lib.mjs"

const { startModelServer, makeCodexHome, codexEnv } = await import(
  join(repo, "dist/testing/index.js")
)
const server = await startModelServer()
const home = await makeCodexHome(server)
const work = mkdtempSync(join(tmpdir(), "codex-tasks-trace-"))
const store = join(work, "store")
const env = nodeEnv({ ...codexEnv(home), CODEX_TASKS_CODEX_BIN: codex })
// Asynchronously: the scripted model server answers codex from this process.
const start = (trace) =>
  new Promise((resolve) => {
    const child = spawn(
      "strace",
      [
        ...(trace ? ["-f", "-ttt", "-s", "60", "-e", "trace=execve,write,read,rename"] : []),
        ...["-o", join(work, "trace.txt"), node, cli, "start", "--store-root", store],
        ...["--skip-git-repo-check", "REPLY:hi"],
      ],
      { env, cwd: work, stdio: ["ignore", "ignore", "inherit"] },
    )
    child.on("close", (code) => resolve({ status: code }))
  })
await start(false) // creates the store, so the next start prewarms its worker
const run = await start(true)
await server.close()
const lines = readFileSync(join(work, "trace.txt"), "utf8").split("\n")
if (process.env.KEEP) console.log(join(work, "trace.txt"))
else rmSync(work, { recursive: true, force: true })
rmSync(home, { recursive: true, force: true })

const at = (l) => Number(l.split(/\s+/)[1])
const t0 = at(lines[0])
const cliPid = lines[0].split(/\s+/)[0]
const first = (label, test) => {
  const l = lines.find(test)
  console.log(
    `${label.padEnd(44)} ${l === undefined ? "—" : `+${((at(l) - t0) * 1000).toFixed(0)} ms`}`,
  )
  return l
}
const worker = first(
  "worker spawned (execve … __worker)",
  (l) => l.includes("execve(") && l.includes("__worker"),
)
const workerPid = worker?.split(/\s+/)[0]
first(
  "CLI writes the request to the worker",
  (l) => l.startsWith(`${cliPid} `) && l.includes('"{\\"_tag\\":\\"Start'),
)
first(
  "worker reads the request",
  (l) => l.startsWith(`${workerPid} `) && l.includes('read(0, "{\\"_tag\\"'),
)
first("codex spawned (execve codex)", (l) => l.includes("execve(") && /\/codex"/.test(l))
first("codex prints thread.started", (l) => l.includes("thread.started") && l.includes("write("))
first(
  "task.json written (rename into place)",
  (l) => l.includes("rename(") && l.includes('task.json"'),
)
first("CLI prints the id", (l) => l.startsWith(`${cliPid} `) && l.includes("write(1, "))
console.log(`(exit ${run.status}; strace inflates every step)`)
