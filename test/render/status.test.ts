import { describe, expect, it } from "vitest"
import type { TaskMeta } from "../../src/domain/task.js"
import { renderStatus, renderTaskTable } from "../../src/render/status.js"
import { makeStyle } from "../../src/render/style.js"
import type { TaskView } from "../../src/tasks/view.js"

// What a model or a prompt can put into a task's text: an OSC title change, a screen clear, a
// cursor move, an 8-bit CSI, a bell and a carriage return that would overwrite the line.
const hostile = "ok\u001b]0;pwned\u0007\u001b[2J\u001b[1;1H\u009b31m\u0007\rgone"

const view = (over: Partial<TaskMeta>): TaskView => {
  const meta = {
    id: "0199d7c2-0000-7000-8000-000000000001",
    state: "STOPPED",
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    ...over,
  } as TaskMeta
  return {
    loc: { id: meta.id, dir: "/store/x", archived: false },
    meta,
    state: meta.state,
    outcome: meta.last_outcome,
    pid: undefined,
    queued: 0,
    lastResult: meta.last_result,
  }
}

const escapesIn = (s: string) => [...s.matchAll(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g)]

describe("renderStatus", () => {
  it("prints no terminal control sequence from the title, prompt, result or outcome", () => {
    const out = renderStatus(
      view({
        title: hostile,
        last_prompt: hostile,
        last_result: hostile,
        working_dir: `/tmp/${hostile}`,
        last_outcome: {
          kind: "failed",
          error_class: hostile,
          message: hostile,
          at: "2025-01-01T00:00:00Z",
        },
      }),
      "iso",
      makeStyle(false),
    )
    expect(escapesIn(out)).toEqual([])
    expect(out).not.toContain("pwned")
    expect(out).toContain("Title: ok")
    // The text around the escapes survives; the carriage return no longer hides the first part.
    expect(out).toMatch(/Last Result: ok[^\n]*\n?gone/)
  })

  it("keeps a multi-line result on several lines", () => {
    const out = renderStatus(
      view({ last_result: "line one\nline two\ttabbed" }),
      "iso",
      makeStyle(false),
    )
    expect(out).toContain("Last Result: line one\nline two\ttabbed")
  })

  it("shows the tokens written to the prompt cache beside the cached ones", () => {
    const out = renderStatus(
      view({
        usage: {
          input_tokens: 5186,
          cached_input_tokens: 1024,
          cache_write_input_tokens: 4096,
          output_tokens: 8,
          reasoning_output_tokens: 0,
        },
      }),
      "iso",
      makeStyle(false),
    )
    expect(out).toContain(
      "Tokens: 5,186 input (1,024 cached, 4,096 cache write), 8 output (0 reasoning)",
    )
  })
})

describe("a task waiting for approval", () => {
  const waiting = view({
    state: "RUNNING",
    waiting: {
      for: "approval",
      since: "2025-01-01T00:00:00Z",
      request: { kind: "command", command: "rm -rf build", reason: "not known to be safe" },
    },
  })

  it("status says what codex asks for and why", () => {
    expect(renderStatus(waiting, "iso", makeStyle(false))).toContain(
      "Waiting: for approval: rm -rf build (not known to be safe)",
    )
  })

  it("ls marks it", () => {
    expect(renderTaskTable([waiting], "iso")).toContain("RUNNING (approval)")
    expect(renderTaskTable([view({ state: "RUNNING" })], "iso")).not.toContain("(approval)")
  })

  it("a request for input shows its questions and choices; a permission request what it asks for", () => {
    const input = view({
      state: "RUNNING",
      waiting: {
        for: "input",
        since: "2025-01-01T00:00:00Z",
        request: {
          kind: "input",
          questions: [
            { id: "c", question: "Which colour?", options: ["Red", "Blue"] },
            { id: "w", question: "By when?" },
          ],
        },
      },
    })
    const permission = view({
      state: "RUNNING",
      waiting: {
        for: "permission",
        since: "2025-01-01T00:00:00Z",
        request: { kind: "permission", permissions: ["network", "write /srv"], reason: "to fetch" },
      },
    })
    expect(renderStatus(input, "iso", makeStyle(false))).toContain(
      "Waiting: for input: Which colour? [Red|Blue]; By when?",
    )
    expect(renderStatus(permission, "iso", makeStyle(false))).toContain(
      "Waiting: for permission: network, write /srv (to fetch)",
    )
    expect(renderTaskTable([input], "iso")).toContain("RUNNING (input)")
    expect(renderTaskTable([permission], "iso")).toContain("RUNNING (permission)")
  })
})
