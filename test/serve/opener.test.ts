import { describe, expect, it } from "vitest"
import { openerCommand } from "../../src/serve/opener.js"

// `serve --open`: $BROWSER as xdg-open and Python's webbrowser read it, else the platform's opener.

const URL = "http://127.0.0.1:7711/#token=abc"

describe("openerCommand", () => {
  it("uses xdg-open (open on macOS) without $BROWSER", () => {
    expect(openerCommand(URL, undefined, "linux")).toEqual({ command: "xdg-open", args: [URL] })
    expect(openerCommand(URL, "", "darwin")).toEqual({ command: "open", args: [URL] })
  })

  it("runs the first command $BROWSER names, the URL last or where %s stands", () => {
    expect(openerCommand(URL, "firefox:chromium", "linux")).toEqual({
      command: "firefox",
      args: [URL],
    })
    expect(openerCommand(URL, "  :chromium --new-window", "linux")).toEqual({
      command: "chromium",
      args: ["--new-window", URL],
    })
    expect(openerCommand(URL, "w3m -o x=1 %s", "linux")).toEqual({
      command: "w3m",
      args: ["-o", "x=1", URL],
    })
  })

  it("never lets a shell read $BROWSER: its characters stay plain arguments", () => {
    expect(openerCommand(URL, "echo $(touch /tmp/x) ;rm", "linux")).toEqual({
      command: "echo",
      args: ["$(touch", "/tmp/x)", ";rm", URL],
    })
  })
})
