import { describe, expect, it } from "vitest"
import { readArgs } from "../../src/cli/readArgs.js"

describe("readArgs", () => {
  it("reads the everyday ls and status forms, globals on either side of the command", () => {
    expect(
      readArgs(["--store-root", "/s", "ls", "-a", "--state", "died", "--state", "x,y"]),
    ).toEqual({
      before: { storeRoot: "/s" },
      after: {},
      request: {
        command: "ls",
        all: true,
        state: ["died", "x,y"],
        json: false,
        timeFormat: "human",
      },
    })
    expect(
      readArgs([
        "status",
        "abc",
        "--json",
        "--timeout=30",
        "--store-root=/t",
        "def",
        "--max-running",
        "2",
      ]),
    ).toEqual({
      before: {},
      after: { storeRoot: "/t", maxRunning: 2 },
      request: {
        command: "status",
        json: true,
        timeFormat: "human",
        all: false,
        allRunning: false,
        wait: false,
        waitAny: false,
        timeout: 30,
        tasks: ["abc", "def"],
      },
    })
    expect(readArgs(["status", "-A", "--time-format", "iso", "--wait-any"])?.request).toMatchObject(
      {
        allRunning: true,
        waitAny: true,
        timeFormat: "iso",
      },
    )
  })

  it("leaves a fleet's ls and status (--cluster, CODEX_TASKS_CLUSTER) to the command tree", () => {
    expect(readArgs(["--cluster", "postgres://db/x", "ls"], {})).toBeUndefined()
    expect(readArgs(["ls", "--cluster=postgres://db/x"], {})).toBeUndefined()
    expect(readArgs(["status", "-a"], { CODEX_TASKS_CLUSTER: "postgres://db/x" })).toBeUndefined()
    expect(readArgs(["status", "-a"], { CODEX_TASKS_CLUSTER: "" })).toBeDefined()
  })

  it("leaves to the command tree what @effect/cli would read otherwise, or reject", () => {
    for (const args of [
      ["ls", "--json", "true"], // a boolean flag takes a boolean word as its value
      ["status", "-a", "yes"],
      ["status", "1"],
      ["ls", "-a", "-a"], // given twice
      ["ls", "--json", "--json"],
      ["--store-root", "/a", "--store-root", "/b", "ls"],
      ["ls", "--state=died"], // a repeated option takes no `=value`
      ["ls", "-aj"],
      ["ls", "--json=true"],
      ["ls", "extra"],
      ["ls", "--time-format", "nope"],
      ["ls", "--store-root"],
      ["ls", "--store-root", "--json"],
      ["ls", "--store-root", ""],
      ["status", "--timeout", "1.5", "-a"],
      ["status", "--timeout", "-1", "-a"],
      ["ls", "--max-running", "two"],
      ["status", "--", "abc"],
      ["status", "-a", "--help"],
      ["--log-level", "debug", "ls"],
      ["log", "abc"],
      [],
    ]) {
      expect(`${args.join(" ")} → ${readArgs(args) === undefined ? "tree" : "fast"}`).toBe(
        `${args.join(" ")} → tree`,
      )
    }
  })
})
