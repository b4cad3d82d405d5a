/**
 * codex's limit on one prompt: `MAX_USER_INPUT_TEXT_CHARS` (1 << 20) in codex-rs, counted in
 * Unicode code points. `codex exec` 0.169 given a longer one prints `thread.started`, then fails
 * ("Input exceeds the maximum length of 1048576 characters", `input_too_large`): a task would be
 * created only to die, so `start`, `send` and the MCP tools refuse it first.
 */

/** The most characters (Unicode code points) codex accepts in one prompt. */
export const MAX_PROMPT_CHARS = 1_048_576

/** Code points of `text`, counting no further than `limit + 1`. */
const codePoints = (text: string, limit: number): number => {
  let n = 0
  for (let i = 0; i < text.length && n <= limit; i++) {
    const c = text.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

/** Why codex would refuse `prompt` as too long, or undefined. */
export const promptTooLong = (prompt: string): string | undefined => {
  // UTF-16 units are never fewer than code points: most prompts need no count.
  if (prompt.length <= MAX_PROMPT_CHARS) return undefined
  if (codePoints(prompt, MAX_PROMPT_CHARS) <= MAX_PROMPT_CHARS) return undefined
  return `The prompt is longer than codex accepts (at most ${MAX_PROMPT_CHARS} characters); put the material in a file and name it in the prompt.`
}
