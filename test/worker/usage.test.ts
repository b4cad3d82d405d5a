import { describe, expect, it } from "vitest"
import { storedUsage } from "../../src/worker/rules.js"

describe("storedUsage", () => {
  it("keeps the five counters codex reports, cache writes included", () => {
    expect(
      storedUsage({
        input_tokens: 5186,
        cached_input_tokens: 1024,
        cache_write_input_tokens: 4096,
        output_tokens: 8,
        reasoning_output_tokens: 2,
      }),
    ).toEqual({
      input_tokens: 5186,
      cached_input_tokens: 1024,
      cache_write_input_tokens: 4096,
      output_tokens: 8,
      reasoning_output_tokens: 2,
    })
  })

  it("counts a counter an older codex omits as 0", () => {
    expect(storedUsage({ input_tokens: 3, output_tokens: 1 })).toEqual({
      input_tokens: 3,
      cached_input_tokens: 0,
      cache_write_input_tokens: 0,
      output_tokens: 1,
      reasoning_output_tokens: 0,
    })
  })
})
