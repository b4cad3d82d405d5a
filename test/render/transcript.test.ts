import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  invocationFailed,
  promptsDropped,
  retryEntry,
  stderrLine,
  userMessage,
  workerNote,
} from "../../src/domain/logEntries.js"
import { makeStyle } from "../../src/render/style.js"
import { makeTranscriptRenderer, type TranscriptOptions } from "../../src/render/transcript.js"

const fixtures = join(import.meta.dirname, "../../fixtures/codex-exec")
const fixture = (name: string): Array<string> =>
  readFileSync(join(fixtures, `${name}.jsonl`), "utf8")
    .split("\n")
    .filter((l) => l !== "")

const plain: TranscriptOptions = { style: makeStyle(false) }

/** Renders lines as `log` does for a task that is no longer running. */
const render = (lines: ReadonlyArray<string>, options: TranscriptOptions = plain): string => {
  const renderer = makeTranscriptRenderer(options)
  return lines.map(renderer.line).join("") + renderer.pending(true)
}

const entry = (line: string): string => line.replace(/\n$/, "")
const started = (item: object) => JSON.stringify({ type: "item.started", item })
const completed = (item: object) => JSON.stringify({ type: "item.completed", item })
const command = (fields: object) => ({
  id: "item_1",
  type: "command_execution",
  command: "make test",
  aggregated_output: "",
  exit_code: null,
  status: "in_progress",
  ...fields,
})
const turnCompleted = (input: number, output: number) =>
  JSON.stringify({
    type: "turn.completed",
    usage: { input_tokens: input, cached_input_tokens: 0, output_tokens: output },
  })

describe("commands", () => {
  it("says a command that exited 3 failed with 3, and shows its output", () => {
    const out = render(fixture("command-failing"))
    expect(out).toContain("exec\n/bin/bash -lc 'echo to-stdout; echo to-stderr >&2; exit 3'\n")
    expect(out).toContain(" failed with exit code 3:\nto-stdout\nto-stderr\n")
    expect(out).not.toContain("succeeded")
  })

  it("never calls an interrupted command (no exit code) a success", () => {
    const out = render(fixture("sigint"))
    expect(out).toContain("./sig-probe.sh")
    expect(out).toContain("did not finish (no exit code)")
    expect(out).not.toContain("succeeded")
  })

  it("shows a command as running while it runs, and its status right under its header", () => {
    const renderer = makeTranscriptRenderer(plain)
    expect(renderer.line(started(command({})))).toBe("exec\nmake test\n")
    expect(renderer.pending()).toBe(" running…\n")
    const done = command({ aggregated_output: "ok\n", exit_code: 0, status: "completed" })
    expect(renderer.line(completed(done))).toBe(" succeeded:\nok\n")
    expect(renderer.pending()).toBe("")
  })

  it("repeats the command when other output came between its start and its end", () => {
    const renderer = makeTranscriptRenderer(plain)
    renderer.line(started(command({})))
    renderer.line(entry(stderrLine("noise")))
    expect(renderer.pending()).toBe("exec\nmake test\n running…\n")
    expect(renderer.line(completed(command({ exit_code: 0, status: "completed" })))).toBe(
      "exec\nmake test\n succeeded\n",
    )
  })

  it("marks a command the turn ended without as unfinished, at the end of the turn", () => {
    const out = render(fixture("command-background-yield"))
    expect(out).toMatch(
      /left it running\nexec\n.*sleep 6.*\n did not finish \(no exit code\)\ntokens/,
    )
  })

  it("truncates long output with a marker that counts the hidden lines", () => {
    const output = `${Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n")}\n`
    const line = completed(
      command({ aggregated_output: output, exit_code: 0, status: "completed" }),
    )
    const out = render([line])
    expect(out).toContain("line 10\n… +30 lines (codex-tasks log --full to see all)\nline 41\n")
    expect(out).not.toContain("line 11\n")
    expect(out).toContain("line 50\n")
    const short = render([line], { ...plain, maxOutputLines: 4 })
    expect(short).toContain("line 2\n… +46 lines")
    const full = render([line], { ...plain, full: true })
    expect(full).not.toContain("…")
    expect(full.match(/^line \d+$/gm)).toHaveLength(50)
  })

  it("removes terminal escapes from command output", () => {
    const out = render([
      completed(
        command({
          aggregated_output: "\u001b[31mred\u001b[0m\r\n",
          exit_code: 0,
          status: "completed",
        }),
      ),
    ])
    expect(out).toContain("\nred\n")
    expect(out).not.toContain("\u001b")
  })
})

describe("items", () => {
  it("lists changed files with A / D / M", () => {
    expect(render(fixture("patch"))).toContain("file update\nA /tmp/capture/patch/wd/hello.txt\n")
    const changes = [
      { path: "gone.txt", kind: "delete" },
      { path: "src/x.ts", kind: "update" },
    ]
    const out = render([completed({ id: "p", type: "file_change", changes, status: "failed" })])
    expect(out).toBe("file update (failed)\nD gone.txt\nM src/x.ts\n")
  })

  it("shows the plan as a checklist when it starts and when it changes", () => {
    const out = render(fixture("plan-enabled"))
    expect(out).toContain(
      "plan\n  • Inspect the workspace\n  • Make the change\n  • Verify the result\n",
    )
    expect(out).toContain(
      "plan\n  ✓ Inspect the workspace\n  ✓ Make the change\n  ✓ Verify the result\n",
    )
    // item.updated and item.completed carry the same list: it is shown once
    expect(out.match(/✓ Inspect/g)).toHaveLength(1)
  })

  it("shows reasoning, messages, web searches and warnings", () => {
    expect(render(fixture("reasoning"))).toContain(
      "thinking\nConsidering the options\nPicking the simplest one\ncodex\nDone thinking.\n",
    )
    const search = render(fixture("web-search"))
    expect(search).toContain("🌐 Searched: codex exec json events\ncodex\nFound it.\n")
    expect(search).toContain("warning: Model metadata for `mock-model` not found.")
  })

  it("shows an MCP tool call with its arguments, status and result", () => {
    const call = {
      id: "m",
      type: "mcp_tool_call",
      server: "docs",
      tool: "search",
      arguments: { q: "effect" },
      result: { content: [{ type: "text", text: "3 hits" }] },
      status: "completed",
    }
    expect(render([completed(call)])).toBe(
      'tool\ndocs.search({"q":"effect"})\n completed\n3 hits\n',
    )
    const failed = { ...call, result: undefined, error: { message: "boom" }, status: "failed" }
    expect(render([completed(failed)])).toContain(" failed\nboom\n")
  })
})

describe("turns and errors", () => {
  it("prints the tokens each turn used, grouped, not the thread's running total", () => {
    const out = render([...fixture("resume-first"), ...fixture("resume-followup")])
    // totals 5,186 then 10,465: the second turn used 5,279
    expect(out.match(/tokens used\n(.*)\n/g)).toEqual([
      "tokens used\n5,186\n",
      "tokens used\n5,279\n",
    ])
    expect(render([turnCompleted(1_234_000, 567)])).toBe("tokens used\n1,234,567\n")
  })

  it("prints the thread id once for a resumed thread", () => {
    const out = render([...fixture("resume-first"), ...fixture("resume-followup")])
    expect(out.match(/^thread /gm)).toHaveLength(1)
  })

  it("prints a fatal error and the failed turn, a reconnect as a warning", () => {
    const out = render(fixture("http-500-default-retries"))
    expect(out).toContain("warning: Reconnecting... 1/5 (We’re currently")
    expect(out).toContain("\nERROR: We’re currently experiencing high demand")
    expect(out).toMatch(/turn failed\n$/)
    const other = render([JSON.stringify({ type: "turn.failed", error: { message: "gone" } })])
    expect(other).toBe("ERROR: turn failed: gone\n")
  })
})

describe("other lines", () => {
  it("renders unknown event and item types with their type name", () => {
    const event = JSON.stringify({ type: "thread.archived", reason: "old" })
    expect(render([event])).toBe('[thread.archived] {"reason":"old"}\n')
    const item = completed({ id: "c", type: "collab_tool_call", tool: "ask" })
    expect(render([item])).toBe('[collab_tool_call] {"id":"c","tool":"ask"}\n')
  })

  it("prints torn lines, garbage and legacy text as they are", () => {
    const torn = '{"type":"item.completed","item":{"id":"item_1","ty'
    expect(render([torn, "garbage", "[2025-09-27T08:00:00] User instructions:"])).toBe(
      `${torn}\ngarbage\n[2025-09-27T08:00:00] User instructions:\n`,
    )
  })

  it("shows a malformed known event in the generic form, with the reason", () => {
    const out = render([JSON.stringify({ type: "turn.completed", usage: "lots" })])
    expect(out).toMatch(/^\[turn\.completed\] \{"usage":"lots"\} \(malformed .*\)\n$/)
  })

  it("renders our synthetic entries", () => {
    const out = render(
      [
        userMessage("Fix the build"),
        stderrLine("Reading additional input from stdin..."),
        invocationFailed("TransientFailure", "HTTP 500", true),
        retryEntry({
          attempt: 1,
          maxRetries: 2,
          delayMs: 2100,
          errorClass: "TransientFailure",
          message: "HTTP 500",
        }),
        workerNote("stop requested: interrupting codex"),
        promptsDropped(["second prompt", "third\nprompt"]),
      ].map(entry),
    )
    expect(out).toBe(
      [
        "user",
        "Fix the build",
        "stderr: Reading additional input from stdin...",
        "ERROR: codex failed (TransientFailure): HTTP 500 (will retry)",
        "retry 1/2 in 2.1 s: TransientFailure: HTTP 500",
        "worker: stop requested: interrupting codex",
        "2 queued prompts dropped:",
        "  - second prompt",
        "  - third",
        "    prompt",
        "",
      ].join("\n"),
    )
  })

  it("says why queued prompts were dropped when the entry records it", () => {
    const reason = "stopped by UnknownThread: \u001b[31mno stored thread\u001b[0m"
    expect(render([entry(promptsDropped(["second prompt", "third"], reason))])).toBe(
      [
        "2 queued prompts dropped (stopped by UnknownThread: no stored thread):",
        "  - second prompt",
        "  - third",
        "",
      ].join("\n"),
    )
    expect(render([entry(promptsDropped(["only"], "the worker was lost"))])).toBe(
      "1 queued prompt dropped (the worker was lost):\n  - only\n",
    )
  })

  it("shows a synthetic entry that does not match its schema like an unknown event", () => {
    expect(
      render([
        '{"type":"user_message"}',
        '{"type":"stderr","message":7}',
        '{"type":"retry","attempt":"one","max_retries":2,"delay_ms":10}',
        '{"type":"invocation_failed","error_class":"X"}',
        '{"type":"prompts_dropped","prompts":"x","at":"2026-01-01T00:00:00.000Z"}',
        '{"type":"worker","text":"w"}',
      ]),
    ).toBe(
      [
        "[user_message]",
        '[stderr] {"message":7}',
        '[retry] {"attempt":"one","max_retries":2,"delay_ms":10}',
        '[invocation_failed] {"error_class":"X"}',
        '[prompts_dropped] {"prompts":"x","at":"2026-01-01T00:00:00.000Z"}',
        '[worker] {"text":"w"}',
        "",
      ].join("\n"),
    )
  })

  it("prints every torn prefix of a fixture line as text", () => {
    const renderer = makeTranscriptRenderer(plain)
    const lines = ["plan-enabled", "command-failing", "web-search", "http-500"].flatMap(fixture)
    for (const line of lines) {
      for (let cut = 1; cut < line.length; cut += 7) {
        expect(renderer.line(line.slice(0, cut))).toBe(`${line.slice(0, cut)}\n`)
      }
    }
  })

  it("prints JSON that is not an event as text", () => {
    const renderer = makeTranscriptRenderer(plain)
    for (const odd of ["null", "[]", "42", '"x"', '{"type":7}', "", "  "]) {
      expect(renderer.line(odd)).toBe(`${odd}\n`)
    }
    expect(renderer.line('{"type":"item.completed"}')).toMatch(/^\[item\.completed\] \(malformed/)
  })
})

describe("colour", () => {
  it("uses escape codes only when the style is enabled", () => {
    const lines = fixture("command-failing")
    expect(render(lines)).not.toContain("\u001b[")
    const coloured = render(lines, { style: makeStyle(true) })
    expect(coloured).toContain("\u001b[31m failed with exit code 3:\u001b[39m")
    expect(coloured.replace(/\u001b\[\d+m/g, "")).toBe(render(lines))
  })
})
