// Issue 10 item 15: MCP `task_log` without tail/since on a large log (default 100 MB) answers one
// page, not the whole log. Prints the size and time of the first answer, the server's peak RSS,
// and how long paging through the whole log takes. Run: node bench/mcp-log.mjs [MB]
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { cli, makeStore } from "./lib.mjs"

const sizeMb = Number(process.argv[2] ?? 100)
const root = makeStore(1)
const id = "01a20000-0000-7000-8000-000000000000"
const event = (i) =>
  JSON.stringify({
    type: "item.completed",
    item: { id: `m${i}`, type: "agent_message", text: `answer ${i} ${"x".repeat(400)}` },
  })
const chunk = `${Array.from({ length: 2_000 }, (_, i) => event(i)).join("\n")}\n`
const fd = openSync(join(root, id, "task.log"), "w")
for (let written = 0; written < sizeMb * 1e6; ) written += writeSync(fd, chunk)
closeSync(fd)

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [cli, "mcp", "--store-root", root],
  cwd: root,
  stderr: "ignore",
})
const client = new Client({ name: "bench", version: "1" })
await client.connect(transport)
const peakRss = () => {
  const status = readFileSync(`/proc/${transport.pid}/status`, "utf8")
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

for (const format of ["jsonl", "text"]) {
  const t0 = performance.now()
  const r = await client.callTool(
    { name: "task_log", arguments: { taskId: id, format } },
    undefined,
    {
      timeout: 600_000,
    },
  )
  const bytes = Buffer.byteLength(JSON.stringify(r))
  console.log(
    `task_log ${format}, no tail/since: answer ${(bytes / 1e6).toFixed(2)} MB in ${Math.round(performance.now() - t0)} ms, hasMore=${r.structuredContent.hasMore}`,
  )
}
let pages = 0
let since = 0
const t0 = performance.now()
for (let more = true; more; pages++) {
  const r = await client.callTool({
    name: "task_log",
    arguments: { taskId: id, format: "jsonl", since },
  })
  more = r.structuredContent.hasMore === true
  since = r.structuredContent.nextOffset
}
console.log(
  `paging the ${sizeMb} MB log in jsonl: ${pages} pages in ${Math.round(performance.now() - t0)} ms; server peak RSS ${Math.round(peakRss() / 1024)} MiB`,
)
await client.close()
rmSync(root, { recursive: true, force: true })
