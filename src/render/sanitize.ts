/**
 * Text from a task (titles, prompts, results, error messages, command output) is written by a
 * model or a user and may hold terminal control sequences: an OSC could retitle the window or
 * write the clipboard, a CSI clear the screen, a carriage return overwrite what was printed.
 */

// OSC (ended by BEL or ST, or unterminated), CSI (complete or cut off), and any other ESC pair.
const escapes = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b\[[0-?]*[ -/]*[@-~]?|\u001b./g
// C0 controls but tab and newline, DEL and C1 (an 8-bit CSI is U+009B).
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Removes escape sequences; CR and CRLF become newlines, other controls a space (tab and newline stay). */
export const stripControls = (s: string): string =>
  s.replace(/\r\n/g, "\n").replace(escapes, "").replace(/\r/g, "\n").replace(controls, " ")

/** `stripControls`, then every line break (and the blanks around it) becomes one space. */
export const oneLine = (s: string): string => stripControls(s).replace(/[ \t]*\n[ \t]*/g, " ")
