// SPEC §7: `log` of a 100 MB transcript streams at >= 50 MB/s with memory independent of the file
// size; `log -f` shows a new event within 100 ms of its being written.
import { spawn } from "node:child_process"
import { appendFileSync, closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { cli, makeStore, node, timeCommand } from "./lib.mjs"

const root = makeStore(1)
const id = "01a20000-0000-7000-8000-000000000000"
const log = join(root, id, "task.log")
const sizeMb = Number(process.argv[2] ?? 100)
const lines = [
  '{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc \'ls\'","aggregated_output":"a\\nb\\nc\\n","exit_code":0,"status":"completed"}}',
  '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Some answer text that is of moderate length, like a real agent message."}}',
  '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Thinking** about the problem"}}',
].join("\n")
const chunk = `${lines}\n`.repeat(2000)
const fd = openSync(log, "w")
let written = 0
while (written < sizeMb * 1e6) written += writeSync(fd, chunk)
closeSync(fd)
for (const mode of [[], ["--json"]]) {
  const r = timeCommand([node, cli, "log", ...mode, "--store-root", root, id], 3)
  const rate = written / 1e6 / (r.medianMs / 1000)
  console.log(
    `log ${mode.join(" ") || "(human)"} of ${(written / 1e6).toFixed(0)} MB: ${r.medianMs.toFixed(0)} ms, ${rate.toFixed(0)} MB/s, max RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`,
  )
}

// Follow latency: append one event while `log -f -F` runs, time until it is printed.
mkdirSync(join(root, id), { recursive: true })
const child = spawn(node, [cli, "log", "-F", "-n", "0", "--store-root", root, id], {
  stdio: ["ignore", "pipe", "inherit"],
})
await new Promise((r) => setTimeout(r, 1500))
const latencies = []
for (let i = 0; i < 10; i++) {
  const marker = `follow-marker-${i}`
  const seen = new Promise((resolve) => {
    const onData = (c) => {
      if (c.toString().includes(marker)) {
        child.stdout.off("data", onData)
        resolve(performance.now())
      }
    }
    child.stdout.on("data", onData)
  })
  const t0 = performance.now()
  appendFileSync(
    log,
    `{"type":"item.completed","item":{"id":"x","type":"agent_message","text":"${marker}"}}\n`,
  )
  latencies.push((await seen) - t0)
  await new Promise((r) => setTimeout(r, 200))
}
child.kill()
latencies.sort((a, b) => a - b)
console.log(
  `log -f: new event shown after ${latencies[5].toFixed(0)} ms (median of 10), worst ${latencies[9].toFixed(0)} ms`,
)
rmSync(root, { recursive: true, force: true })
