import { Effect, Either } from "effect"
import { assert, describe, it } from "vitest"
import { gateFleetStart, gateFleetStartRequest, gateFleetTask } from "../../src/gate/fleetGate.js"
import type { GateContext } from "../../src/gate/gate.js"

// `mcp --cluster`'s gate: the refusals of local mcp, and every path refused (it names a file on
// the task's host, which the server cannot resolve) unless --allow-unsafe.
const ctx = (over: Partial<GateContext> = {}): GateContext => ({
  allowUnsafe: false,
  cwd: "/srv/here",
  roots: ["/srv/here"],
  allowRepos: ["https://github.com/me/"],
  ...over,
})

const refusal = (c: GateContext, input: Parameters<typeof gateFleetStart>[1]) => {
  const r = Effect.runSync(Effect.either(gateFleetStart(c, input)))
  return Either.isLeft(r) ? r.left.message : undefined
}

describe("gateFleetStart", () => {
  it("refuses every path argument (a local repoUrl too) and what local mcp refuses, in one error", () => {
    const message = refusal(ctx(), {
      prompt: "hi",
      workingDir: "/srv/here/sub",
      images: ["a.png"],
      repoUrl: "/srv/here/repo",
      profile: "fast",
      sandbox: "danger-full-access",
    })
    // One line per problem: three paths, the sandbox and the profile.
    assert.strictEqual(message?.split("\n").length, 5)
    assert.include(message, "workingDir is refused: it is a path on the task's host")
    assert.include(message, "images is refused: it is a path on the task's host")
    assert.include(message, "repoUrl is refused: it is a path on the task's host")
    assert.include(message, 'sandbox: "danger-full-access" is refused')
    assert.include(message, "profile is refused")
  })

  it("lets a network repoUrl under --allow-repo and the free options through, unchanged", () => {
    const r = Effect.runSync(
      gateFleetStart(ctx(), {
        prompt: "hi",
        repoUrl: "https://github.com/me/app.git",
        model: "m",
        sandbox: "workspace-write",
        skipGitRepoCheck: true,
      }),
    )
    assert.strictEqual(r.args.repoUrl, "https://github.com/me/app.git")
    assert.strictEqual(r.options.model, "m")
    assert.strictEqual(r.options.sandbox, "workspace-write")
    assert.strictEqual(r.options.workingDir, undefined)
  })

  it("refuses a network repoUrl outside --allow-repo", () => {
    assert.include(
      refusal(ctx(), { prompt: "hi", repoUrl: "https://evil.example/x.git" }),
      "repoUrl https://evil.example/x.git is refused: it is a network address not under https://github.com/me/",
    )
  })

  it("with --allow-unsafe passes every argument on as given (paths on the host)", () => {
    const r = Effect.runSync(
      gateFleetStart(ctx({ allowUnsafe: true }), {
        prompt: "hi",
        workingDir: "/on/the/host",
        images: ["/on/the/host/a.png"],
        sandbox: "danger-full-access",
      }),
    )
    assert.strictEqual(r.options.workingDir, "/on/the/host")
    assert.deepStrictEqual(r.options.images, ["/on/the/host/a.png"])
    assert.strictEqual(r.options.sandbox, "danger-full-access")
  })
})

describe("gateFleetStartRequest (mcp and serve --cluster starts)", () => {
  const refused = (input: Parameters<typeof gateFleetStartRequest>[1]) => {
    // With --allow-unsafe: what is left is what no fleet does.
    const r = Effect.runSync(
      Effect.either(gateFleetStartRequest(ctx({ allowUnsafe: true }), input)),
    )
    return Either.isLeft(r) ? r.left.message : undefined
  }

  it("refuses what a fleet cannot do: notifications, a repoRef without repoUrl", () => {
    assert.strictEqual(
      refused({ prompt: "hi", onFinish: "echo done" } as Parameters<
        typeof gateFleetStartRequest
      >[1]),
      "onFinish and webhook are not available with --cluster.",
    )
    assert.strictEqual(refused({ prompt: "hi", repoRef: "main" }), "repoRef needs repoUrl.")
  })

  it("builds the host's request: repository and worktree passed on, no path", () => {
    const r = Effect.runSync(
      gateFleetStartRequest(ctx(), {
        prompt: "hi",
        title: "t",
        repoUrl: "https://github.com/me/app",
        repoRef: "dev",
        worktree: { branch: "b" },
      }),
    )
    assert.deepStrictEqual(
      { prompt: r.prompt, title: r.title, repo: r.repo, worktree: r.worktree },
      {
        prompt: "hi",
        title: "t",
        repo: { url: "https://github.com/me/app", ref: "dev" },
        worktree: { branch: "b" },
      },
    )
  })
})

describe("gateFleetTask (sends and diffs of a fleet server)", () => {
  const task = { id: "0199d7c6-0000-7000-8000-0000000000a1", host: "alpha" }
  const judged = (allowUnsafe: boolean, startedHere: ReadonlyArray<string>) => {
    const r = Effect.runSync(
      Effect.either(
        gateFleetTask(
          { ...ctx({ allowUnsafe }), startedHere: new Set(startedHere) },
          task,
          "Sending a prompt to",
        ),
      ),
    )
    return Either.isLeft(r) ? r.left.message : "allowed"
  }

  it("allows the tasks it started, and any task with --allow-unsafe; refuses the others, naming the host", () => {
    assert.strictEqual(judged(false, [task.id]), "allowed")
    assert.strictEqual(judged(true, []), "allowed")
    const message = judged(false, [])
    assert.include(
      message,
      `Sending a prompt to task ${task.id} is refused: it was not started through this server`,
    )
    assert.include(message, "host alpha")
  })
})
