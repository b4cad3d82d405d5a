/** Terminal colour: ANSI SGR wrappers that are the identity when colour is off. */

/** Text decorations used by the human renderers. */
export interface Style {
  readonly enabled: boolean
  readonly bold: (s: string) => string
  readonly dim: (s: string) => string
  readonly red: (s: string) => string
  readonly green: (s: string) => string
  readonly yellow: (s: string) => string
  readonly cyan: (s: string) => string
  readonly magenta: (s: string) => string
}

const identity = (s: string): string => s

// Every line is wrapped on its own so that a reader (or `less -R`) never sees an attribute that
// spans a newline.
const sgr =
  (open: number, close: number) =>
  (s: string): string =>
    s
      .split("\n")
      .map((line) => (line === "" ? line : `\u001b[${open}m${line}\u001b[${close}m`))
      .join("\n")

/** A `Style` that colours when `enabled`, and changes nothing otherwise. */
export const makeStyle = (enabled: boolean): Style =>
  enabled
    ? {
        enabled,
        bold: sgr(1, 22),
        dim: sgr(2, 22),
        red: sgr(31, 39),
        green: sgr(32, 39),
        yellow: sgr(33, 39),
        cyan: sgr(36, 39),
        magenta: sgr(35, 39),
      }
    : {
        enabled,
        bold: identity,
        dim: identity,
        red: identity,
        green: identity,
        yellow: identity,
        cyan: identity,
        magenta: identity,
      }

/** Colour only on a TTY, never with a non-empty `NO_COLOR` (no-color.org), never on `TERM=dumb`. */
export const colorEnabled = (
  stream: { readonly isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>,
): boolean =>
  stream.isTTY === true &&
  (env.NO_COLOR === undefined || env.NO_COLOR === "") &&
  env.TERM !== "dumb"
