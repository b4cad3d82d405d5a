/** Plain-text tables for `ls` and friends. */

/** The cell text of a missing value. */
export const dash = "-"

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g

/** One table cell: each run of control characters (tabs, newlines, escapes) becomes a space. */
export const sanitizeCell = (s: string): string => s.replace(controls, " ").trim()

/** Columns aligned with two spaces between them, no trailing spaces, one line per row. */
export const renderTable = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
): string => {
  const lines = [headers, ...rows].map((row) =>
    Array.from({ length: headers.length }, (_, i) => sanitizeCell(row[i] ?? "")),
  )
  const widths = headers.map((_, i) =>
    Math.max(...lines.map((cells) => [...(cells[i] ?? "")].length)),
  )
  return lines
    .map((cells) =>
      cells
        .map((cell, i) => cell + " ".repeat((widths[i] ?? 0) - [...cell].length))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
}
