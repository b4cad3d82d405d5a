/** Small pure text helpers of the transcript: control-sequence cleaning, digit groups, JSON rest. */

/** A parsed JSON object as the transcript sees it. */
export type Rec = Readonly<Record<string, unknown>>

/** How an item that never completed is shown: still running, or the task ended without it. */
export type Unfinished = "running" | "ended"

/** A string, narrowed. */
export const str = (u: unknown): u is string => typeof u === "string"

/** A JSON object (not an array, not null), narrowed. */
export const rec = (u: unknown): u is Rec =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A finite number, narrowed. */
export const num = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

// Terminal escapes would repaint the user's screen; other controls become visible gaps.
const escapes = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b\[[0-?]*[ -/]*[@-~]?|\u001b./g
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g
// Every character the replacements below touch (ESC and CR included); most text has none.
const anyControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

/** `s` without terminal escapes, CR/CRLF as `\n`, other controls as spaces. */
export const clean = (s: string): string =>
  anyControl.test(s)
    ? s.replace(/\r\n/g, "\n").replace(escapes, "").replace(/\r/g, "\n").replace(controls, " ")
    : s

/** `10478` → `10,478`, whatever the locale. */
export const groupDigits = (n: number): string =>
  String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")

/** The object's fields other than `type` as ` {json}`, or `""` when there are none. */
export const withoutType = (o: Rec): string => {
  const { type: _, ...rest } = o
  return Object.keys(rest).length === 0 ? "" : ` ${JSON.stringify(rest)}`
}
