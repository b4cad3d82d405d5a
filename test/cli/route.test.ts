import { describe, expect, it } from "vitest"
import { routeOf } from "../../src/cli/route.js"

describe("routeOf", () => {
  it("sends a known command, after any global options, to that command alone", () => {
    expect(routeOf(["ls"])).toBe("ls")
    expect(routeOf(["--store-root", "/s", "start", "hi"])).toBe("start")
    expect(routeOf(["--codex-bin=/c", "--store-root", "mcp", "status"])).toBe("status")
    expect(routeOf(["mcp", "--allow-unsafe"])).toBe("mcp")
    expect(routeOf(["send", "id", "ls"])).toBe("send")
    expect(routeOf(["--max-running", "2", "start", "hi"])).toBe("start")
  })

  it("routes a fleet's commands like local ones, and the runner to its command", () => {
    expect(routeOf(["--cluster", "postgres://db/x", "ls"])).toBe("ls")
    expect(routeOf(["--cluster=postgres://db/x", "send", "id", "hi"])).toBe("send")
    expect(routeOf(["runner", "--host-id", "a"])).toBe("runner")
  })

  it("sends the worker to the worker", () => {
    expect(routeOf(["__worker"])).toBe("worker")
  })

  it("leaves help, completions, version, unknown commands and root flags to the full tree", () => {
    for (const args of [
      [],
      ["--help"],
      ["ls", "--help"],
      ["start", "-h"],
      ["--version"],
      ["--completions", "bash"],
      ["--completions=zsh"],
      ["--wizard"],
      ["lss"],
      ["--log-level", "debug", "ls"],
      ["--store-root"],
    ]) {
      expect(`${args.join(" ")} → ${routeOf(args)}`).toBe(`${args.join(" ")} → tree`)
    }
  })
})
