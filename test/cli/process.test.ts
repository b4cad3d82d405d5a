import { Cause, Exit, FiberId } from "effect"
import { describe, expect, it } from "vitest"
import { processExitCode, signalExitCode } from "../../src/cli/process.js"

describe("processExitCode", () => {
  const interrupted = Exit.failCause(Cause.interrupt(FiberId.none))

  it("a command interrupted by Ctrl-C ends 130, by SIGTERM 143, never 0", () => {
    expect(processExitCode(interrupted, "SIGINT")).toBe(130)
    expect(processExitCode(interrupted, "SIGTERM")).toBe(143)
    expect(signalExitCode(undefined)).toBe(130)
  })

  it("a command that finished leaves its own exit code", () => {
    expect(processExitCode(Exit.void, undefined)).toBe(0)
  })

  it("a defect that escaped the program ends 1", () => {
    expect(processExitCode(Exit.die(new Error("boom")), undefined)).toBe(1)
  })
})
