import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { crashAt, scenarios, tracePoints } from "./inProcessSweep.js"

// The in-process crash sweep (issue 20 §1): for each scenario, crash at every fault point the
// scenario passes, recover, and check the invariants (test/sweep/inProcessSweep.ts). The
// real-process sweep is `npm run sweep` (scripts/sweep.mjs).

describe("crash sweep (in-process)", () => {
  for (const name of ["start", "send-idle", "start-queued"] as const) {
    const scenario = scenarios[name]!
    it.scoped(
      `${name}: a crash at any point leaves a store the recovery puts right`,
      () =>
        Effect.gen(function* () {
          const points = yield* tracePoints(scenario)
          assert.isAbove(points.length, 10, "the scenario passes the store's fault points")
          const found: Array<string> = []
          for (let k = 1; k <= points.length; k++) {
            for (const v of yield* crashAt(scenario, k))
              found.push(`crash at ${k} (${points[k - 1]}): ${v}`)
          }
          console.log(
            `in-process sweep, ${name}: points ${points.length}, runs ${points.length}, violations ${found.length}`,
          )
          assert.deepStrictEqual(found, [], `${points.length} points`)
        }),
      120_000,
    )
  }
})
