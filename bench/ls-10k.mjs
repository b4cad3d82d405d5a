// SPEC §7: `ls -a` over 10,000 tasks under 1 s, memory bounded.
import { rmSync } from "node:fs"
import { cli, makeStore, node, timeCommand } from "./lib.mjs"

const root = makeStore(10_000)
const r = timeCommand([node, cli, "ls", "-a", "--store-root", root], 5)
console.log(
  `ls -a over 10,000 tasks: ${r.medianMs.toFixed(0)} ms (median of 5), max RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`,
)
rmSync(root, { recursive: true, force: true })
