// The fleet (issue 24, docs/cluster.md) against local mode, on one machine: `start` until the id
// is printed and `send` until codex's request reaches the model, local vs `--cluster` (targets:
// ≤ 100 ms more); `ls` of 1,000 fleet tasks (target ≤ 300 ms on Node 22). Needs `npm run build`
// and PostgreSQL: `--pg URL` (or CODEX_TASKS_BENCH_PG), else one is started here from Debian's
// binaries (as the postgres user when run as root) and removed afterwards.
import { spawn, spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, codex, makeStore, node, nodeEnv, repo } from "./lib.mjs"

const RUNS = 7
const argPg = process.argv.indexOf("--pg")
const givenPg = argPg > 0 ? process.argv[argPg + 1] : process.env.CODEX_TASKS_BENCH_PG
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** A throwaway PostgreSQL (see test/support/postgres.ts for the tested version of this). */
const startPostgres = async () => {
  const bin = [
    "/usr/local/bin",
    ...readdirSync("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin`),
  ].find((d) => existsSync(join(d, "initdb")))
  if (bin === undefined) throw new Error("PostgreSQL not found: pass --pg URL")
  const base = mkdtempSync(join(tmpdir(), "ct-bench-pg-"))
  const root = process.getuid() === 0
  const as = root ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"] : []
  if (root) {
    const id = (flag) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout)
    chownSync(base, id("-u"), id("-g"))
  }
  const argv = (cmd, args) =>
    as.length > 0 ? [as[0], [...as.slice(1), cmd, ...args]] : [cmd, args]
  const [ic, ia] = argv(join(bin, "initdb"), [
    "-D",
    join(base, "data"),
    "-U",
    "codex",
    "--auth=trust",
    "--no-sync",
  ])
  spawnSync(ic, ia, { stdio: "ignore" })
  const port = await freePort()
  const [pc, pa] = argv(join(bin, "postgres"), [
    "-D",
    join(base, "data"),
    "-p",
    String(port),
    "-h",
    "127.0.0.1",
    "-k",
    base,
    "-c",
    "fsync=off",
  ])
  const server = spawn(pc, pa, { stdio: "ignore" })
  await sleep(2_000)
  return {
    url: `postgres://codex@127.0.0.1:${port}/postgres`,
    stop: async () => {
      server.kill("SIGINT")
      await new Promise((r) => server.once("exit", r))
      rmSync(base, { recursive: true, force: true })
    },
  }
}

const pg = givenPg === undefined ? await startPostgres() : { url: givenPg, stop: async () => {} }
const { startModelServer, makeCodexHome, codexEnv } = await import(
  join(repo, "dist/testing/index.js")
)
const server = await startModelServer()
const work = mkdtempSync(join(tmpdir(), "ct-bench-fleet-"))
const home = await makeCodexHome(server, { dir: join(work, "home") })
const base = nodeEnv({ ...codexEnv(home), HOME: work, CODEX_TASKS_CODEX_BIN: codex })
const localEnv = { ...base, CODEX_TASKS_HOME: join(work, "local") }
const clientEnv = { ...base, CODEX_TASKS_HOME: join(work, "client"), CODEX_TASKS_CLUSTER: pg.url }

const runners = []
const startRunner = async (hostId, store) => {
  const port = await freePort()
  const child = spawn(node, [cli, "runner", "--host-id", hostId, "--listen", `127.0.0.1:${port}`], {
    env: { ...base, CODEX_TASKS_HOME: store, CODEX_TASKS_CLUSTER: pg.url },
    cwd: work,
    stdio: ["ignore", "ignore", "pipe"],
  })
  runners.push(child)
  let err = ""
  child.stderr.on("data", (c) => (err += c))
  while (!err.includes("listening on")) {
    if (child.exitCode !== null) throw new Error(err)
    await sleep(50)
  }
}

/** Wall time until `matches(stdout)`, and the stdout at the end. */
const timed = (args, env, matches = () => false) =>
  new Promise((resolve) => {
    const t0 = performance.now()
    const child = spawn(node, [cli, ...args], {
      env,
      cwd: work,
      stdio: ["ignore", "pipe", "inherit"],
    })
    let out = ""
    let t
    child.stdout.on("data", (c) => {
      out += c
      if (t === undefined && matches(out)) t = performance.now() - t0
    })
    child.on("close", () => resolve({ ms: t ?? performance.now() - t0, out }))
  })

const waitStopped = async (id, env) => {
  for (;;) {
    const { out } = await timed(["status", "--json", id], env)
    if (JSON.parse(out).state !== "RUNNING") return
    await sleep(100)
  }
}

/** Until the model server got the request of `prompt` (the turn started). */
const turnStart = async (id, env, prompt) => {
  const t0 = performance.now()
  const child = spawn(node, [cli, "send", id, prompt], { env, cwd: work, stdio: "ignore" })
  for (;;) {
    const r = server.requests.find((q) => q.lastUserText === prompt)
    if (r !== undefined) {
      await new Promise((res) => (child.exitCode === null ? child.once("close", res) : res()))
      return r.receivedAt - (Date.now() - (performance.now() - t0))
    }
    await sleep(2)
  }
}

await startRunner("alpha", join(work, "alpha"))
const figures = {}
for (const [mode, env, extra] of [
  ["local", localEnv, []],
  ["cluster", clientEnv, ["--on", "alpha"]],
]) {
  const starts = []
  const sends = []
  let id
  for (let i = 0; i < RUNS; i++) {
    const r = await timed(
      ["start", ...extra, "--skip-git-repo-check", "REPLY:hi"],
      env,
      (o) => o.trim().length >= 36,
    )
    starts.push(r.ms)
    id = r.out.trim()
    await waitStopped(id, env)
  }
  for (let i = 0; i < RUNS; i++) {
    sends.push(await turnStart(id, env, `REPLY:send ${mode} ${i}`))
    await waitStopped(id, env)
  }
  figures[mode] = { startMs: median(starts), sendToTurnMs: median(sends) }
}

// ls of 1,000 tasks held by one runner, from a client, against the same store read locally.
const big = makeStore(1000)
await startRunner("bulk", big)
const lsFleet = []
const lsLocal = []
for (let i = 0; i < 11; i++) {
  lsFleet.push((await timed(["ls"], clientEnv)).ms)
  lsLocal.push((await timed(["ls"], { ...base, CODEX_TASKS_HOME: big })).ms)
}
const fleetLines = (await timed(["ls", "--json"], clientEnv)).out
console.log(`node ${spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim()}`)
for (const mode of ["local", "cluster"]) {
  console.log(
    `${mode.padEnd(8)} start→id ${figures[mode].startMs.toFixed(0)} ms   send→turn start ${figures[mode].sendToTurnMs.toFixed(0)} ms`,
  )
}
console.log(
  `cluster − local: start ${(figures.cluster.startMs - figures.local.startMs).toFixed(0)} ms, send ${(figures.cluster.sendToTurnMs - figures.local.sendToTurnMs).toFixed(0)} ms (target ≤ 100 ms)`,
)
console.log(
  `ls of ${JSON.parse(fleetLines).length} fleet tasks: ${median(lsFleet).toFixed(0)} ms (local ls of the same store: ${median(lsLocal).toFixed(0)} ms; target ≤ 300 ms on Node 22)`,
)

for (const r of runners) r.kill("SIGKILL")
await server.close()
await pg.stop()
rmSync(work, { recursive: true, force: true })
rmSync(big, { recursive: true, force: true })
process.exit(0)
