/**
 * How `serve --open` opens the page: the command `$BROWSER` names (as Python's `webbrowser` and
 * xdg-open read it: a `:`-separated list, the first used; `%s` in it stands for the URL, else
 * the URL comes last), else `xdg-open` (`open` on macOS). Split on spaces, never given to a shell.
 */
export const openerCommand = (
  url: string,
  browser: string | undefined,
  platform: NodeJS.Platform = process.platform,
): { readonly command: string; readonly args: ReadonlyArray<string> } => {
  const named = (browser ?? "")
    .split(":")
    .map((entry) => entry.trim())
    .find((entry) => entry !== "")
  if (named === undefined)
    return { command: platform === "darwin" ? "open" : "xdg-open", args: [url] }
  const [command = named, ...rest] = named.split(/\s+/)
  const args = rest.some((a) => a.includes("%s"))
    ? rest.map((a) => a.replaceAll("%s", url))
    : [...rest, url]
  return { command, args }
}
