// Which response the scripted model server gives a request: its queue first, then the directives
// of the request's last user message, with each fault's `x<N>` / `~<N>` limit counted.
import { type Fault, inputOf, isRecord, parseScript, type Round, roundOf } from "./modelScript.js"
import type { RecordedRequest, ScriptStep } from "./modelServer.js"

/** The response planned for one request. */
export interface Planned {
  readonly round: Round
  readonly delayMs: number
  readonly slowMs: number
  readonly fault: Fault | undefined
  /** `RESET:<s>` of the prompt, for a `usage_limit_reached` error. */
  readonly reset: number | undefined
}

/** A planner over the server's queue, counting fault hits across the server's requests. */
export const makePlanner = (queue: Array<ScriptStep>) => {
  const faultHits = new Map<string, number>()
  return (recorded: RecordedRequest): Planned => {
    const queued = queue.shift()
    if (queued) {
      const output = queued.output ?? []
      const round: Round = {
        output,
        faults: queued.fault ? [queued.fault] : [],
        defaultReply: output.length === 0,
      }
      return {
        round,
        delayMs: queued.delayMs ?? 0,
        slowMs: queued.slowMs ?? 0,
        fault: queued.fault,
        reset: undefined,
      }
    }
    const prompt = recorded.lastUserText ?? ""
    const script = parseScript(prompt)
    const input = inputOf(recorded.body)
    const index = roundOf(input)
    const round = script.rounds[index] ?? { output: [], faults: [], defaultReply: true }
    const conversation =
      isRecord(recorded.body) && typeof recorded.body.prompt_cache_key === "string"
        ? recorded.body.prompt_cache_key
        : ""
    const fault = round.faults.find((f, i) => {
      if (f.times === undefined) return true
      const key =
        f.scope === "prompt"
          ? `prompt\u0000${index}\u0000${i}\u0000${prompt}`
          : `${conversation}\u0000${input.length}\u0000${index}\u0000${i}\u0000${prompt}`
      const hits = faultHits.get(key) ?? 0
      if (hits >= f.times) return false
      faultHits.set(key, hits + 1)
      return true
    })
    return {
      round,
      delayMs: script.delayMs,
      slowMs: script.slowMs,
      fault,
      reset: script.resetSeconds,
    }
  }
}
