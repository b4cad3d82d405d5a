import { describe, expect, it } from "vitest"
import { backlogCheck, STALL_AFTER_MS } from "../../src/cluster/doctor.js"
import { limitChecks } from "../../src/cluster/limitsDoctor.js"

// `doctor --cluster`'s guard against the engine's stall (Effect-TS/effect#6248): runners look
// healthy while messages for them are never consumed. Only messages for live hosts count.
describe("the message backlog check", () => {
  const live = new Set(["alpha", "beta"])

  it("passes with no message waiting, or only recent ones", () => {
    expect(backlogCheck([], live)).toMatchObject({ ok: true, detail: "none" })
    expect(backlogCheck([{ host: "alpha", ageMs: 2_000 }], live)).toMatchObject({
      ok: true,
      detail: "1 message(s) for live hosts, the oldest (host alpha) 2 s old",
    })
  })

  it("fails, naming the host to restart, once a live host's message waits too long", () => {
    const check = backlogCheck(
      [
        { host: "alpha", ageMs: 5_000 },
        { host: "beta", ageMs: STALL_AFTER_MS + 60_000 },
      ],
      live,
    )
    expect(check).toMatchObject({ ok: false, required: true })
    expect(check.detail).toBe("2 message(s) for live hosts, the oldest (host beta) 180 s old")
    expect(check.fix).toMatch(/restart the runner of host beta/)
  })

  it("does not count messages parked for a host without a live runner (they wait for it)", () => {
    const check = backlogCheck([{ host: "gone", ageMs: 3_600_000 }], live)
    expect(check).toMatchObject({
      ok: true,
      detail: "none; 1 message(s) wait for hosts without a live runner",
    })
  })
})

describe("the limits' checks", () => {
  it("say how many fleet slots are held and which resets the usage gate holds turns for", () => {
    const until = new Date("2026-12-07T23:00:00.000Z")
    const [slots, usage] = limitChecks(2, [
      { account: "", until, host: "alpha" },
      { account: "1a2b3c4d5e6f7a8b", until, host: "beta" },
    ])
    expect(slots).toMatchObject({
      ok: true,
      required: false,
      detail: expect.stringMatching(/^2 held/),
    })
    expect(usage).toMatchObject({
      ok: true,
      required: false,
      detail:
        "no ChatGPT account: turns wait until 2026-12-07T23:00:00.000Z (met on host alpha); account 1a2b3c4d5e6f7a8b: turns wait until 2026-12-07T23:00:00.000Z (met on host beta)",
    })
    expect(limitChecks(0, [])[1]?.detail).toBe("no reset pending")
  })
})
