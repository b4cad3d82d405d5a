import { describe, expect, it } from "vitest"
import { DECODE_CAP_BYTES } from "../../src/exec/lines.js"
import { overCapSummary, renderLogLine } from "../../src/render/longLine.js"
import { makeStyle } from "../../src/render/style.js"
import { makeTranscriptRenderer } from "../../src/render/transcript.js"

const ID = "0199d7c2-0000-7000-8000-000000000000"
const line = (head: string, size: number) =>
  Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length - 3, "z"), Buffer.from('"}}')])

describe("the transcript of a line over the decoding cap", () => {
  it("names its event and item type and size, and how to see it", () => {
    const bytes = line(
      '{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"',
      64 * 1024 * 1024,
    )
    expect(overCapSummary(bytes, ID)).toBe(
      `[item.completed agent_message] line of 67,108,864 bytes is over the 8 MiB decoding cap: not shown (codex-tasks log --json ${ID} prints it)`,
    )
  })

  it("renders a line at the cap as usual and one over it as the summary", () => {
    const head = '{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"'
    const renderer = makeTranscriptRenderer({ style: makeStyle(false) })
    const atCap = renderLogLine(renderer, line(head, DECODE_CAP_BYTES), ID)
    expect(atCap.startsWith("codex\nzzz")).toBe(true)
    const over = renderLogLine(renderer, line(head, DECODE_CAP_BYTES + 1), ID)
    expect(over).toBe(
      `[item.completed agent_message] line of 8,388,609 bytes is over the 8 MiB decoding cap: not shown (codex-tasks log --json ${ID} prints it)\n`,
    )
  })

  it("shows only safe type names, and none when the line is not an event", () => {
    const odd = line('{"type":"\u001b[2Jitem","x":"', DECODE_CAP_BYTES + 1)
    expect(overCapSummary(odd, ID)).toMatch(/^line of 8,388,609 bytes/)
    expect(overCapSummary(Buffer.alloc(DECODE_CAP_BYTES + 1, "a"), ID)).toMatch(/^line of /)
  })
})
