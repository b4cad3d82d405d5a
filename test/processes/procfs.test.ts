import { spawn } from "node:child_process"
import { once } from "node:events"
import { describe, expect, it } from "vitest"
import {
  isSameProcessAlive,
  parseStatStartTime,
  identityOf as processIdentity,
} from "../../src/processes/procfs.js"

const runToExit = async (command: string, args: ReadonlyArray<string>) => {
  const child = spawn(command, args, { stdio: "ignore" })
  const pid = child.pid!
  const identity = processIdentity(pid)
  await once(child, "exit")
  return { pid, identity }
}

describe("processIdentity", () => {
  it("parses the start time after the last ')' even when the command name has spaces and parens", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3))
    const stat = `1234 (evil) (name 1 2) ${fields.join(" ")}\n`
    expect(parseStatStartTime(stat)).toBe("22")
    expect(parseStatStartTime("garbage")).toBeUndefined()
  })

  it("sees the current process as alive", () => {
    const me = processIdentity(process.pid)
    expect(me?.pid).toBe(process.pid)
    expect(me?.startTime).toMatch(/^\d+$/)
    expect(isSameProcessAlive(me!)).toBe(true)
  })

  it("sees an exited process as not alive", async () => {
    const { pid, identity } = await runToExit("sleep", ["0.2"])
    expect(identity?.pid).toBe(pid)
    expect(processIdentity(pid)).toBeUndefined()
    expect(isSameProcessAlive(identity!)).toBe(false)

    const quick = await runToExit("true", [])
    expect(processIdentity(quick.pid)).toBeUndefined()
    expect(isSameProcessAlive({ pid: quick.pid, startTime: "1" })).toBe(false)
  })

  it("is not fooled by a live pid with a different start time (PID reuse)", () => {
    const me = processIdentity(process.pid)!
    expect(isSameProcessAlive({ ...me, startTime: "1" })).toBe(false)
    expect(isSameProcessAlive({ ...me, bootId: "another-boot" })).toBe(false)
  })
})
