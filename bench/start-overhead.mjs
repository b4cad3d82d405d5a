// SPEC §7: `start` overhead — time until the id is printed, minus the time the plain native
// `codex exec --json` takes to print `thread.started` against the same scripted model. < 100 ms.
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, node, nodeEnv, repo } from "./lib.mjs"

const { startModelServer, makeCodexHome, codexEnv } = await import(
  join(repo, "dist/testing/index.js")
)
const { nativeCodex } = await import(join(repo, "dist/exec/nativeCodex.js"))
const native = nativeCodex(codex).bin
const server = await startModelServer()
const home = await makeCodexHome(server)
const env = nodeEnv({ ...codexEnv(home), CODEX_TASKS_CODEX_BIN: codex })
const work = mkdtempSync(join(tmpdir(), "codex-tasks-bench-"))

const timeUntil = (argv, input, matches, extraEnv = {}) =>
  new Promise((resolve) => {
    const t0 = performance.now()
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...env, ...extraEnv },
      cwd: work,
      stdio: ["pipe", "pipe", "ignore"],
    })
    let out = ""
    let t
    child.stdout.on("data", (c) => {
      out += c
      if (t === undefined && matches(out)) t = performance.now() - t0
    })
    child.stdin.end(input)
    child.on("close", () => resolve(t ?? Number.NaN))
  })

/** `codex-tasks start` until its id is printed (`extraEnv`: e.g. without the prewarmed worker). */
const ourStart = (extraEnv = {}) =>
  timeUntil(
    [node, cli, "start", "--store-root", join(work, "store"), "--skip-git-repo-check", "REPLY:hi"],
    "",
    (o) => o.trim().length >= 36,
    extraEnv,
  )

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const plain = []
const shim = []
const ours = []
const cold = []
const threadStarted = (o) => o.includes("thread.started")
for (let i = 0; i < 7; i++) {
  plain.push(
    await timeUntil(
      [native, "exec", "--json", "--skip-git-repo-check", "-"],
      "REPLY:hi",
      threadStarted,
    ),
  )
  shim.push(
    await timeUntil(
      [codex, "exec", "--json", "--skip-git-repo-check", "-"],
      "REPLY:hi",
      threadStarted,
    ),
  )
  ours.push(await ourStart())
  cold.push(await ourStart({ CODEX_TASKS_PREWARM: "0" }))
}
await new Promise((r) => setTimeout(r, 2000))
console.log(`Node ${spawnSync(node, ["-v"], { encoding: "utf8" }).stdout.trim()}`)
console.log(
  `native codex exec --json → thread.started: ${median(plain).toFixed(0)} ms (median of 7)`,
)
console.log(`same through the npm shim:                ${median(shim).toFixed(0)} ms (median of 7)`)
console.log(`codex-tasks start → id printed:          ${median(ours).toFixed(0)} ms (median of 7)`)
console.log(`same without the prewarmed worker:      ${median(cold).toFixed(0)} ms (median of 7)`)
console.log(
  `start overhead (vs native codex):          ${(median(ours) - median(plain)).toFixed(0)} ms`,
)
await server.close()
rmSync(work, { recursive: true, force: true })
rmSync(home, { recursive: true, force: true })
