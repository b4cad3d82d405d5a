// Issue 10 item 14: one very long stdout line (a 16 MiB and a 64 MiB agent_message) through the
// exec client's line splitter (`CodexExecLive` with a stub codex), the log reader (`readLog`), a
// whole task run (`start` + `status --wait`, the worker persisting the line), `status`, `log` and
// `log --json`. Needs `npm run build`. Usage: node bench/long-line.mjs [MiB ...] (default 16 64).
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { cli, repo } from "./lib.mjs"

const { CodexExec } = await import(join(repo, "dist/exec/CodexExec.js"))
const CodexExecLive = await import(join(repo, "dist/exec/CodexExecLive.js"))
const { readLog } = await import(join(repo, "dist/tasks/logReader.js"))
const stub = join(repo, "test/support/longLineCodex.mjs")

/** An item.completed agent_message line of exactly `bytes` bytes (ASCII, UTF-8, escapes). */
const longLine = (bytes) => {
  const head = '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"'
  const tail = '"}}'
  const piece = 'long line é ✓ \\"quoted\\"\\n ok. '
  const room = bytes - Buffer.byteLength(head) - Buffer.byteLength(tail)
  const n = Math.floor(room / Buffer.byteLength(piece))
  return head + piece.repeat(n) + "x".repeat(room - n * Buffer.byteLength(piece)) + tail
}

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`
const timed = async (f) => {
  const t0 = performance.now()
  const value = await f()
  return { ms: performance.now() - t0, value }
}
const runCli = (args, env) => {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [cli, ...args], {
    env,
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "pipe"],
  })
  return { ms: performance.now() - t0, code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const sizes = process.argv.slice(2).map(Number)
for (const mib of sizes.length > 0 ? sizes : [16, 64]) {
  const dir = mkdtempSync(join(tmpdir(), "codex-tasks-long-line-"))
  const lineFile = join(dir, "line.jsonl")
  writeFileSync(lineFile, longLine(mib * 1024 * 1024))
  const env = { ...process.env, LONG_LINE_FILE: lineFile, CODEX_TASKS_HOME: join(dir, "store") }
  const label = `${mib} MiB line`

  const exec = await timed(() =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const run = yield* (yield* CodexExec).run({
            prompt: "x",
            options: {},
            outputLastMessage: join(dir, "last.txt"),
          })
          const lengths = []
          yield* Stream.runForEach(run.output, (o) =>
            Effect.sync(() => o._tag === "Stdout" && lengths.push(o.bytes.length)),
          )
          yield* run.result
          return lengths
        }),
      ).pipe(Effect.provide(CodexExecLive.layer({ codexBin: stub, env }))),
    ),
  )
  console.log(`${label}: exec client (stub codex → output): ${seconds(exec.ms)}`)

  const read = await timed(() =>
    Effect.runPromise(readLog(lineFile, () => Effect.void).pipe(Effect.scoped)),
  )
  console.log(`${label}: readLog of the line: ${seconds(read.ms)}`)

  const t0 = performance.now()
  const started = runCli(["start", "--codex-bin", stub, "--json", "long line"], env)
  if (started.code !== 0) throw new Error(`start failed: ${started.stderr}`)
  const id = JSON.parse(started.stdout.toString()).id
  const waited = runCli(["status", "--wait", "--json", id], env)
  const state = JSON.parse(waited.stdout.toString()).state
  console.log(`${label}: start + status --wait (task ${state}): ${seconds(performance.now() - t0)}`)
  const log = join(dir, "store", id, "task.log")
  const status = runCli(["status", id], env)
  console.log(
    `${label}: status: ${seconds(status.ms)} (exit ${status.code}, ${status.stdout.length} bytes out)`,
  )
  for (const mode of [[], ["--json"]]) {
    const r = runCli(["log", ...mode, id], env)
    console.log(
      `${label}: log ${mode.join(" ") || "(human)"}: ${seconds(r.ms)} (exit ${r.code}, ${r.stdout.length} bytes out of a ${statSync(log).size}-byte log)`,
    )
  }
  rmSync(dir, { recursive: true, force: true })
}
