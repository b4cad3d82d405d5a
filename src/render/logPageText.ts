import { makeStyle } from "./style.js"
import { groupDigits, makeTranscriptRenderer } from "./transcript.js"

/** A page of `task.log` as `tasks/logPage.ts` reads it (only what rendering needs). */
export interface PageBytes {
  readonly lines: ReadonlyArray<Buffer>
  readonly piece?: Buffer
  readonly skipped?: { readonly offset: number; readonly size: number }
  readonly hasMore: boolean
}

/** The text standing for an event too large for one page (text format). */
const skippedNote = (skipped: { offset: number; size: number }, budget: number) =>
  `[event of ${groupDigits(skipped.size)} bytes at offset ${groupDigits(skipped.offset)} not shown: larger than a page (${groupDigits(budget)} bytes); read it with format: "jsonl"]\n`

/**
 * A page as the raw JSONL lines (a piece of an event larger than the page last), or as the
 * transcript without colours (`final`: the task no longer runs, so open items are closed).
 */
export const pageText = (
  page: PageBytes,
  options: {
    readonly format: "text" | "jsonl"
    readonly budget: number
    readonly final: boolean
    readonly full?: boolean | undefined
  },
): string => {
  if (options.format === "jsonl") {
    const text = page.lines.map((l) => `${l.toString("utf8")}\n`).join("")
    return page.piece === undefined ? text : text + page.piece.toString("utf8")
  }
  if (page.skipped !== undefined) return skippedNote(page.skipped, options.budget)
  const renderer = makeTranscriptRenderer({ style: makeStyle(false), full: options.full === true })
  let text = ""
  for (const l of page.lines) text += renderer.line(l.toString("utf8"))
  // Items still open at a page's end may complete on the next page.
  return page.hasMore ? text : text + renderer.pending(options.final)
}
