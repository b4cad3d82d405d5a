import { describe, expect, it } from "vitest"
import { newThreadArgv, resumeArgv } from "../../src/exec/argv.js"
import type { ExecOptions } from "../../src/exec/options.js"

const OUT = "/tmp/out/last-message.txt"
const THREAD = "019a1b2c-3d4e-7f00-8a9b-0c1d2e3f4a5b"

/** One value per option; every subset of them is one combination. */
const values = {
  workingDir: "/work/project dir",
  configFile: "/home/u/.codex-alt/config.toml",
  configOverrides: ["model_reasoning_effort=high", 'approval_policy="never"'],
  sandbox: "workspace-write",
  model: "gpt-5-codex",
  profile: "fast",
  images: ["/img/a.png", "/img/b b.jpg"],
  skipGitRepoCheck: true,
  bypassApprovalsAndSandbox: true,
  planTool: true,
  extraArgs: ["--color", "never"],
} as const satisfies ExecOptions
type Key = keyof typeof values
const keys = Object.keys(values) as Array<Key>

const combinations: Array<ExecOptions> = Array.from({ length: 2 ** keys.length }, (_, mask) =>
  Object.fromEntries(keys.filter((_, bit) => (mask >> bit) & 1).map((k) => [k, values[k]])),
)

/** Index of `[flag, value]` as adjacent elements, or -1. */
const pairAt = (argv: ReadonlyArray<string>, flag: string, value: string): number =>
  argv.findIndex((a, i) => a === flag && argv[i + 1] === value)

/** `expect` whose failures name the option combination. */
const expectFor =
  (o: ExecOptions) =>
  <T>(value: T) =>
    expect(value, `options: ${Object.keys(o).join(", ") || "(none)"}`)

const countOf = (argv: ReadonlyArray<string>, flag: string) => argv.filter((a) => a === flag).length

/** Checks the flags shared by both builders; `end` is where `-` (or `resume`) begins. */
const checkCommon = (argv: ReadonlyArray<string>, o: ExecOptions, end: number) => {
  const expect = expectFor(o)
  expect(argv[0]).toBe("exec")
  expect(pairAt(argv, "--output-last-message", OUT)).toBeGreaterThan(0)
  expect(argv).toContain("--json")
  expect(argv.includes("--skip-git-repo-check")).toBe(o.skipGitRepoCheck === true)
  expect(argv.includes("--dangerously-bypass-approvals-and-sandbox")).toBe(
    o.bypassApprovalsAndSandbox === true,
  )
  expect(countOf(argv, "--model")).toBe(o.model === undefined ? 0 : 1)
  if (o.model !== undefined) expect(pairAt(argv, "--model", o.model)).toBeGreaterThan(0)
  expect(countOf(argv, "--profile")).toBe(o.profile === undefined ? 0 : 1)
  if (o.profile !== undefined) expect(pairAt(argv, "--profile", o.profile)).toBeGreaterThan(0)
  // images belong to the prompt they came with: the first one (a resume never re-sends them)
  const images = argv.flatMap((a, i) => (a === "--image" ? [argv[i + 1]] : []))
  expect(images).toEqual(argv.includes("resume") ? [] : (o.images ?? []))
  const plan = pairAt(argv, "-c", "tools.update_plan.enabled=true")
  expect(plan >= 0).toBe(o.planTool === true)
  // overrides keep their order, and every option precedes the extra args / `resume` / `-`
  const overrides = (o.configOverrides ?? []).map((c) => pairAt(argv, "-c", c))
  expect(overrides.every((i) => i > 0)).toBe(true)
  expect([...overrides].sort((a, b) => a - b)).toEqual(overrides)
  for (const flag of ["--model", "--profile", "--image", "-c", "--output-last-message"])
    expect(argv.lastIndexOf(flag)).toBeLessThan(end)
  // the config file travels as CODEX_HOME, never on the command line
  expect(argv.join(" ")).not.toContain(".codex-alt")
}

/** The extra args sit as one block directly before `end`. */
const checkExtra = (argv: ReadonlyArray<string>, o: ExecOptions, end: number) => {
  const expect = expectFor(o)
  const extra = o.extraArgs ?? []
  expect(argv.slice(end - extra.length, end)).toEqual(extra)
}

describe("newThreadArgv", () => {
  it(`every combination of options (${combinations.length}): flags as given, prompt via a final '-'`, () => {
    for (const o of combinations) {
      const expect = expectFor(o)
      const argv = newThreadArgv(o, OUT)
      const end = argv.length - 1
      expect(argv[end]).toBe("-")
      expect(countOf(argv, "-")).toBe(1)
      expect(argv).not.toContain("resume")
      checkCommon(argv, o, end)
      checkExtra(argv, o, end)
      expect(countOf(argv, "--cd")).toBe(o.workingDir === undefined ? 0 : 1)
      if (o.workingDir !== undefined) expect(pairAt(argv, "--cd", o.workingDir)).toBeGreaterThan(0)
      expect(countOf(argv, "--sandbox")).toBe(o.sandbox === undefined ? 0 : 1)
      if (o.sandbox !== undefined) expect(pairAt(argv, "--sandbox", o.sandbox)).toBeGreaterThan(0)
      expect(argv.some((a) => a.startsWith("sandbox_mode="))).toBe(false)
    }
  })

  it("builds the exact command line for a full set of options", () => {
    expect(newThreadArgv(values, OUT)).toEqual([
      "exec",
      "--json",
      "--output-last-message",
      OUT,
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--model",
      "gpt-5-codex",
      "--profile",
      "fast",
      "-c",
      "tools.update_plan.enabled=true",
      "-c",
      "model_reasoning_effort=high",
      "-c",
      'approval_policy="never"',
      "--image",
      "/img/a.png",
      "--image",
      "/img/b b.jpg",
      "--cd",
      "/work/project dir",
      "--sandbox",
      "workspace-write",
      "--color",
      "never",
      "-",
    ])
  })

  it("keeps a bare invocation minimal", () => {
    expect(newThreadArgv({}, OUT)).toEqual(["exec", "--json", "--output-last-message", OUT, "-"])
  })
})

describe("resumeArgv", () => {
  it(`every combination of options (${combinations.length}): \`resume <id> -\` last, no --cd/--sandbox`, () => {
    for (const o of combinations) {
      const expect = expectFor(o)
      const argv = resumeArgv(THREAD, o, OUT)
      const end = argv.length - 3
      expect(argv.slice(end)).toEqual(["resume", THREAD, "-"])
      expect(countOf(argv, "resume")).toBe(1)
      expect(countOf(argv, "-")).toBe(1)
      checkCommon(argv, o, end)
      checkExtra(argv, o, end)
      expect(argv).not.toContain("--cd")
      expect(argv).not.toContain("-C")
      expect(argv).not.toContain("--sandbox")
      expect(argv).not.toContain("-s")
      // the working directory reaches a resume only as the process cwd
      if (o.workingDir !== undefined) expect(argv.join(" ")).not.toContain(o.workingDir)
      const sandbox = argv.findIndex(
        (a, i) => argv[i - 1] === "-c" && a.startsWith("sandbox_mode="),
      )
      if (o.sandbox === undefined) expect(sandbox).toBe(-1)
      else {
        expect(argv[sandbox]).toBe(`sandbox_mode="${o.sandbox}"`)
        expect(sandbox).toBeLessThan(end)
      }
    }
  })

  it("builds the exact command line for a full set of options", () => {
    expect(resumeArgv(THREAD, values, OUT)).toEqual([
      "exec",
      "--json",
      "--output-last-message",
      OUT,
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--model",
      "gpt-5-codex",
      "--profile",
      "fast",
      "-c",
      "tools.update_plan.enabled=true",
      "-c",
      "model_reasoning_effort=high",
      "-c",
      'approval_policy="never"',
      "-c",
      'sandbox_mode="workspace-write"',
      "--color",
      "never",
      "resume",
      THREAD,
      "-",
    ])
  })

  it("passes every sandbox mode as a quoted TOML string", () => {
    for (const sandbox of ["read-only", "workspace-write", "danger-full-access"] as const) {
      const argv = resumeArgv(THREAD, { sandbox }, OUT)
      expect(argv.slice(-5)).toEqual(["-c", `sandbox_mode="${sandbox}"`, "resume", THREAD, "-"])
    }
  })
})

describe("current codex flags", () => {
  const options = {
    outputSchema: "/s/schema.json",
    addDirs: ["/extra one", "/two"],
    enableFeatures: ["web_search"],
    disableFeatures: ["unified_exec"],
  }

  it("passes --output-schema, --add-dir, --enable and --disable to a new thread", () => {
    const argv = newThreadArgv(options, OUT)
    expect(argv).toEqual(
      expect.arrayContaining(["--output-schema", "/s/schema.json", "--enable", "web_search"]),
    )
    expect(argv.slice(argv.indexOf("--add-dir"))).toEqual([
      "--add-dir",
      "/extra one",
      "--add-dir",
      "/two",
      "-",
    ])
    expect(argv[argv.indexOf("--disable") + 1]).toBe("unified_exec")
  })

  it("replays them on resume; --add-dir (which resume rejects) as the writable-roots key", () => {
    const argv = resumeArgv("t-1", options, OUT)
    expect(argv).not.toContain("--add-dir")
    expect(argv).toEqual(expect.arrayContaining(["--output-schema", "/s/schema.json"]))
    expect(argv).toEqual(expect.arrayContaining(["--enable", "web_search", "--disable"]))
    expect(argv).toContain('sandbox_workspace_write.writable_roots=["/extra one", "/two"]')
    expect(argv.slice(-3)).toEqual(["resume", "t-1", "-"])
  })
})
