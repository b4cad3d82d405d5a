// Run slots (issue 12): taking a free slot must add no measurable latency. Prints (1) the cost of
// one take + release of a free slot in-process (store/slots.ts: a lock, a ticket, a directory
// read), and (2) `start` → id printed with and without `--max-running 8`, interleaved, median of 9.
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, node, nodeEnv, repo } from "./lib.mjs"

const { startModelServer, makeCodexHome, codexEnv } = await import(
  join(repo, "dist/testing/index.js")
)
const { takeSlot } = await import(join(repo, "dist/store/slots.js"))
const { Effect } = await import("effect")
const work = mkdtempSync(join(tmpdir(), "codex-tasks-bench-slots-"))

// (1) In-process: take and release a free slot, 200 times.
const takes = 200
const root = join(work, "inproc")
await Effect.runPromise(Effect.scoped(takeSlot(root, 8))) // the directory exists from here on
const t0 = performance.now()
for (let i = 0; i < takes; i++) await Effect.runPromise(Effect.scoped(takeSlot(root, 8)))
const perTake = (performance.now() - t0) / takes

// (2) The CLI: `start` until the id is printed, with and without a cap.
const server = await startModelServer()
const home = await makeCodexHome(server)
const env = nodeEnv({ ...codexEnv(home), CODEX_TASKS_CODEX_BIN: codex })
const timeStart = (extra) =>
  new Promise((resolve) => {
    const t = performance.now()
    const argv = [
      cli,
      ...extra,
      "start",
      "--store-root",
      join(work, "store"),
      "--skip-git-repo-check",
      "REPLY:hi",
    ]
    const child = spawn(node, argv, { env, cwd: work, stdio: ["ignore", "pipe", "ignore"] })
    let out = ""
    let at
    child.stdout.on("data", (c) => {
      out += c
      if (at === undefined && out.trim().length >= 36) at = performance.now() - t
    })
    child.on("close", () => resolve(at ?? Number.NaN))
  })
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const without = []
const withCap = []
for (let i = 0; i < 9; i++) {
  without.push(await timeStart([]))
  withCap.push(await timeStart(["--max-running", "8"]))
}
await new Promise((r) => setTimeout(r, 2000)) // let the workers finish
console.log(`Node ${spawnSync(node, ["-v"], { encoding: "utf8" }).stdout.trim()}`)
console.log(
  `take + release of a free slot (in-process): ${perTake.toFixed(2)} ms (mean of ${takes})`,
)
console.log(
  `start → id printed, no --max-running:       ${median(without).toFixed(0)} ms (median of 9)`,
)
console.log(
  `start → id printed, --max-running 8:        ${median(withCap).toFixed(0)} ms (median of 9)`,
)
console.log(
  `difference:                                 ${(median(withCap) - median(without)).toFixed(0)} ms`,
)
await server.close()
rmSync(work, { recursive: true, force: true })
