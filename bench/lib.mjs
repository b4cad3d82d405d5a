// Shared helpers of the benchmark scripts (run them with `node bench/<name>.mjs [--node PATH]`;
// `--node 22` / `--node 24` use the pinned releases of scripts/node-dist.mjs).
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { nodeFromArgs } from "../scripts/node-dist.mjs"

export const repo = join(dirname(fileURLToPath(import.meta.url)), "..")
export const cli = join(repo, "dist/bin/codex-tasks.js")
export const codex = join(repo, "node_modules/.bin/codex")
/** The Node that runs the CLI (`--node PATH`, default this one); removed from process.argv. */
export const node = nodeFromArgs(process.argv)
/** This environment with `node`'s directory first on PATH (the codex shim runs `env node`). */
export const nodeEnv = (env = process.env) => ({
  ...env,
  PATH: `${dirname(node)}:${env.PATH ?? ""}`,
})

/** Median wall time (ms, to 0.1 ms) of `runs` runs of a command, and its max RSS (KiB). */
export const timeCommand = (argv, runs = 21, env = nodeEnv()) => {
  const times = []
  let maxRss = 0
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const r = spawnSync("/usr/bin/time", ["-f", "%M", ...argv], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
    })
    times.push(performance.now() - t0)
    maxRss = Math.max(maxRss, Number(r.stderr.trim().split("\n").pop()))
  }
  times.sort((a, b) => a - b)
  return { medianMs: times[Math.floor(times.length / 2)], maxRssKiB: maxRss }
}

const uuid7ish = (n) => {
  const hex = n.toString(16).padStart(12, "0")
  return `01a2${hex.slice(0, 4)}-${hex.slice(4, 8)}-7${hex.slice(8, 11)}-8000-${hex.padStart(12, "0")}`
}

/**
 * A store of `count` finished tasks (written directly, the way the worker leaves them); with
 * `repo`, each ran in that directory and its log says its last turn changed `repo/a.txt`.
 */
export const makeStore = (count, repo) => {
  const root = mkdtempSync(join(tmpdir(), "codex-tasks-bench-"))
  const t0 = Date.parse("2026-01-01T00:00:00Z")
  for (let i = 0; i < count; i++) {
    const id = uuid7ish(i)
    const dir = join(root, id)
    mkdirSync(dir, { mode: 0o700 })
    const at = new Date(t0 + i * 1000).toISOString()
    const meta = {
      id,
      title: `task ${i}`,
      state: i % 10 === 0 ? "DIED" : "STOPPED",
      created_at: at,
      updated_at: at,
      last_result: `result ${i}`,
      initial_prompt: `prompt ${i}`,
      last_prompt: `prompt ${i}`,
      working_dir: repo ?? "/tmp",
      schema_version: 1,
      turns: 1,
    }
    writeFileSync(join(dir, "task.json"), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 })
    if (repo !== undefined) writeFileSync(join(dir, "task.log"), changeLog(id, join(repo, "a.txt")))
  }
  return root
}

const changeLog = (id, file) =>
  [
    { type: "user_message", message: "edit a.txt" },
    { type: "thread.started", thread_id: id },
    {
      type: "item.completed",
      item: { id: "item_0", type: "file_change", changes: [{ path: file, kind: "update" }] },
    },
    { type: "turn.completed", usage: { input_tokens: 10, output_tokens: 5 } },
  ]
    .map((e) => `${JSON.stringify(e)}\n`)
    .join("")

/** A git repository with one commit and a changed `a.txt` (what tasks leave behind). */
export const makeRepo = () => {
  const dir = mkdtempSync(join(tmpdir(), "codex-tasks-bench-repo-"))
  const git = (...args) => spawnSync("git", args, { cwd: dir, stdio: "ignore" })
  git("init", "-q", "-b", "main")
  writeFileSync(join(dir, "a.txt"), "one\n")
  git("add", ".")
  git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "base")
  writeFileSync(join(dir, "a.txt"), "two\n")
  return dir
}

/** Runs a command to completion, resolving to its stdout. */
export const run = (argv, env = process.env) =>
  new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (c) => (out += c))
    child.on("close", () => resolve(out))
  })
