import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

// What each process loads (scripts/build.mjs, scripts/cli-loader.cjs): the worker and the
// everyday commands never read the MCP SDK, zod or the command tree they do not run.
const bundle = (name: string) => readFileSync(`dist/bin/${name}.cjs`, "utf8")
const MCP = ["modelcontextprotocol", "McpServer", "ZodError"]

describe("the built bundles", () => {
  it("the worker has neither the CLI nor the MCP server", () => {
    const worker = bundle("worker")
    for (const s of [...MCP, "Invalid subcommand", "withSubcommands"]) {
      expect(`worker has ${s}: ${worker.includes(s)}`).toBe(`worker has ${s}: false`)
    }
  })

  it("the CLI bundle of the everyday commands has no MCP SDK or zod; the full one has them", () => {
    const cli = bundle("cli")
    const full = bundle("full")
    for (const s of MCP) {
      expect(`cli has ${s}: ${cli.includes(s)}`).toBe(`cli has ${s}: false`)
      expect(`full has ${s}: ${full.includes(s)}`).toBe(`full has ${s}: true`)
    }
  })

  it("only the full CLI has serve's server (the everyday commands do not load it)", () => {
    // Strings of src/serve/guard.ts and src/generated/servePage.ts.
    const SERVE = ["frame-ancestors 'none'", "Not logged in: open the URL"]
    for (const s of SERVE) {
      for (const name of ["cli", "read", "worker"]) {
        expect(`${name} has ${s}: ${bundle(name).includes(s)}`).toBe(`${name} has ${s}: false`)
      }
      expect(`full has ${s}: ${bundle("full").includes(s)}`).toBe(`full has ${s}: true`)
    }
  })

  it("the fast read path (everyday ls and status) has neither @effect/cli nor the MCP server", () => {
    const read = bundle("read")
    for (const s of [...MCP, "Received unknown argument", "withSubcommands"]) {
      expect(`read has ${s}: ${read.includes(s)}`).toBe(`read has ${s}: false`)
    }
  })

  it("only the fleet's bundle has @effect/cluster and the Postgres client", () => {
    const FLEET = ["pg_try_advisory_lock", "cluster_runners", "CodexTasksHost"]
    for (const name of ["worker", "read", "cli", "full"]) {
      const text = bundle(name)
      for (const s of FLEET) {
        expect(`${name} has ${s}: ${text.includes(s)}`).toBe(`${name} has ${s}: false`)
      }
    }
    const cluster = bundle("cluster")
    for (const s of FLEET)
      expect(`cluster has ${s}: ${cluster.includes(s)}`).toBe(`cluster has ${s}: true`)
    for (const s of MCP)
      expect(`cluster has ${s}: ${cluster.includes(s)}`).toBe(`cluster has ${s}: false`)
  })

  it("only fleet-mcp.cjs (`mcp` and `serve` given --cluster) has the fleet with the servers", () => {
    const fleetMcp = bundle("fleet-mcp")
    for (const s of [
      "modelcontextprotocol",
      "ZodError",
      "CodexTasksHost",
      "it is a path on the task's host",
      // serve's server and page, and the fleet's dashboard API (src/serve/fleetApi.ts).
      "frame-ancestors 'none'",
      "Not logged in: open the URL",
      "Apply is not available on a fleet's dashboard",
    ]) {
      expect(`fleet-mcp has ${s}: ${fleetMcp.includes(s)}`).toBe(`fleet-mcp has ${s}: true`)
    }
    for (const name of ["worker", "read", "cli", "full", "cluster"]) {
      for (const s of ["it is a path on the task's host", "Apply is not available on a fleet"]) {
        const has = bundle(name).includes(s)
        expect(`${name} has ${s}: ${has}`).toBe(`${name} has ${s}: false`)
      }
    }
  })

  it("the worker loads the fleet's run slots (Postgres) from their own bundle, only when asked", () => {
    const worker = bundle("worker")
    expect(worker).toContain('require("./fleet-slots.cjs")')
    const slots = bundle("fleet-slots")
    expect(slots).toContain("pg_try_advisory_lock")
    // Plain `pg`: no second copy of Effect in a worker that loads it.
    expect(slots.includes("effect/GlobalValue")).toBe(false)
    expect(slots.length).toBeLessThan(200_000)
  })

  it("the launcher loads one bundle, chosen by argv", () => {
    const loader = readFileSync("dist/bin/codex-tasks.js", "utf8")
    expect(loader).toContain('"worker"')
    expect(loader).toContain('"read"')
    expect(loader).toContain('"cluster"')
    expect(loader).toContain('"fleet-mcp"')
    expect(loader.length).toBeLessThan(20_000)
  })
})
