import { describe, expect, it } from "vitest"
import { fitAnswers } from "../../src/tasks/approvals.js"

// `approve --answer`: the answers checked against codex's questions before the worker sees them.

const request = {
  kind: "input",
  questions: [
    { id: "c", question: "Which colour?", options: ["Red", "Blue"], other: false },
    { id: "w", question: "By when?", other: true },
  ],
}

describe("fitAnswers", () => {
  it("takes one answer per question; a choice by its label in any case, as codex wrote it", () => {
    expect(fitAnswers(request, ["blue", "Friday"])).toEqual({ answers: ["Blue", "Friday"] })
  })

  it("refuses too few or too many answers, naming the questions", () => {
    const fit = fitAnswers(request, ["Red"])
    expect(fit).toHaveProperty("problem")
    expect("problem" in fit ? fit.problem : "").toContain(
      "it asks 2 questions (1. Which colour?; 2. By when?); give one --answer for each, in order (1 given)",
    )
  })

  it("refuses an answer outside the choices when other text is not accepted", () => {
    const fit = fitAnswers(request, ["Green", "now"])
    expect("problem" in fit ? fit.problem : "").toBe(
      'answer 1 (Green) is not one of the choices of "Which colour?": Red, Blue',
    )
  })

  it("a request with no questions (an MCP URL elicitation) is approved without answers", () => {
    expect(fitAnswers({ kind: "input", questions: [] }, [])).toEqual({ answers: [] })
    expect(fitAnswers({ kind: "input" }, ["x"])).toHaveProperty("problem")
  })
})
