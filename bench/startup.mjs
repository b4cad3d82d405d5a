// SPEC §7: read-only commands (`ls`, `status`) on a store of 100 tasks, against `node -e 0`.
// Target: within 1.5× the wall time of `node -e 0`.
import { rmSync } from "node:fs"
import { cli, makeRepo, makeStore, node, timeCommand } from "./lib.mjs"

const root = makeStore(100)
const repo = makeRepo()
const editedRoot = makeStore(100, repo)
const base = timeCommand([node, "-e", "0"])
const rows = [
  ["node -e 0", base],
  ["codex-tasks --help", timeCommand([node, cli, "--help"])],
  ["codex-tasks ls (100 tasks)", timeCommand([node, cli, "ls", "--store-root", root])],
  [
    "codex-tasks ls --json (100 tasks)",
    timeCommand([node, cli, "ls", "--json", "--store-root", root]),
  ],
  [
    "codex-tasks status -a (100 tasks)",
    timeCommand([node, cli, "status", "-a", "--store-root", root]),
  ],
  [
    "status -a (100 that edited a git repo)",
    timeCommand([node, cli, "status", "-a", "--store-root", editedRoot]),
  ],
]
for (const [name, r] of rows) {
  console.log(
    `${name.padEnd(36)} ${r.medianMs.toFixed(0).padStart(5)} ms  ${(r.medianMs / base.medianMs).toFixed(2)}×  max RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`,
  )
}
for (const dir of [root, editedRoot, repo]) rmSync(dir, { recursive: true, force: true })
