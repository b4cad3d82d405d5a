import { randomBytes } from "node:crypto"
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { resolveCodexBin } from "../exec/codexBin.js"
import { nativeCodex } from "../exec/nativeCodex.js"
import { runToEnd } from "../processes/child.js"
import { checkStoreRoot } from "../store/rootGuard.js"

/** One `doctor` check. */
export interface Check {
  readonly name: string
  readonly ok: boolean
  /** A failed required check makes `doctor` exit 1. */
  readonly required: boolean
  readonly detail: string
  /** One line telling how to fix a failure. */
  readonly fix?: string | undefined
}

const run = (bin: string, args: ReadonlyArray<string>) =>
  runToEnd(bin, args, { timeoutMs: 15_000 }).pipe(
    Effect.map((r) => ({
      ok: r.exitCode === 0 && !r.timedOut,
      out: `${r.stdout}${r.stderr}`.trim(),
      error: r.timedOut ? "no answer within 15 s" : undefined,
    })),
    Effect.catchTag("ChildNotStarted", (e) =>
      Effect.succeed({ ok: false, out: "", error: e.message }),
    ),
  )

const isNodeShim = (path: string) => {
  try {
    return readFileSync(path, { encoding: "utf8", flag: "r" }).slice(0, 64).includes("node")
  } catch {
    return false
  }
}

/** Checks codex: found, its version, native binary or npm shim, and the flags we rely on. */
export const checkCodex = (codexBin: string): Effect.Effect<Array<Check>> =>
  Effect.gen(function* () {
    const resolved = resolveCodexBin(codexBin)
    if (!resolved.found) {
      return [
        {
          name: "codex",
          ok: false,
          required: true,
          detail: `${codexBin} not found${codexBin.includes("/") ? "" : " on PATH"}`,
          fix: "npm install -g @openai/codex, or point --codex-bin / CODEX_TASKS_CODEX_BIN at it",
        },
      ]
    }
    const path = resolved.path
    const version = yield* run(path, ["--version"])
    const launch = nativeCodex(codexBin)
    const native = launch.launcher === undefined ? undefined : launch.bin
    const kind =
      native !== undefined
        ? `npm shim; codex-tasks runs its native binary ${native}`
        : isNodeShim(path)
          ? "npm shim (Node script starting the native binary): it runs as given, its binary not found"
          : "native binary"
    const checks: Array<Check> = [
      {
        name: "codex",
        ok: version.ok,
        required: true,
        detail: version.ok
          ? `${path}: ${version.out} (${kind})`
          : `${path} did not run: ${version.out || version.error}`,
        fix: version.ok ? undefined : "reinstall codex (npm install -g @openai/codex)",
      },
    ]
    if (!version.ok) return checks
    const execHelp = (yield* run(path, ["exec", "--help"])).out
    const resumeHelp = (yield* run(path, ["exec", "resume", "--help"])).out
    const wanted = ["--json", "--output-last-message", "--skip-git-repo-check", "--cd", "--sandbox"]
    const missing = wanted.filter((f) => !execHelp.includes(f))
    const resumeOk = resumeHelp.includes("SESSION_ID") || resumeHelp.includes("resume")
    checks.push({
      name: "codex exec flags",
      ok: missing.length === 0 && resumeOk,
      required: true,
      detail:
        missing.length === 0 && resumeOk
          ? `exec accepts ${wanted.join(" ")}; exec resume is available`
          : `missing: ${[...missing, ...(resumeOk ? [] : ["exec resume"])].join(", ")}`,
      fix: "upgrade codex (codex-tasks is tested with @openai/codex 0.169)",
    })
    return checks
  })

/** Checks CODEX_HOME and whether codex has credentials (never printing them). */
export const checkAuth = (env: NodeJS.ProcessEnv = process.env): Array<Check> => {
  const home =
    env.CODEX_HOME !== undefined && env.CODEX_HOME !== ""
      ? env.CODEX_HOME
      : join(homedir(), ".codex")
  const authFile = join(home, "auth.json")
  const hasKey = (env.OPENAI_API_KEY ?? "") !== ""
  const loggedIn = existsSync(authFile)
  return [
    {
      name: "CODEX_HOME",
      ok: existsSync(home),
      required: false,
      detail: `${home}${existsSync(home) ? "" : " (does not exist yet)"}`,
      fix: "run codex once, or set CODEX_HOME",
    },
    {
      name: "credentials",
      ok: hasKey || loggedIn,
      required: false,
      detail: [
        loggedIn ? `logged in (${authFile} present)` : "not logged in",
        hasKey ? "OPENAI_API_KEY is set" : "OPENAI_API_KEY is not set",
      ].join("; "),
      fix: "codex login, or export OPENAI_API_KEY",
    },
  ]
}

const octal = (mode: number) => mode.toString(8).padStart(3, "0")

/** Creates, writes and removes a probe file: never through a planted symlink or an existing file. */
const probeWrite = (root: string, name: string) => {
  const probe = join(root, name)
  const fd = openSync(
    probe,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  )
  try {
    writeSync(fd, "ok")
  } finally {
    closeSync(fd)
  }
  unlinkSync(probe)
}

/**
 * Checks that the store root is safe (`store/rootGuard.ts`: ours, not writable by others; a root
 * others can read is tightened, and the check says so) and can be created and written.
 */
export const checkStore = (
  root: string,
  probeName = `.doctor-${randomBytes(8).toString("hex")}`,
): Check => {
  const guard = checkStoreRoot(root)
  if (Either.isLeft(guard)) {
    return {
      name: "store",
      ok: false,
      required: true,
      detail: `${root} ${guard.left.reason}`,
      fix: guard.left.fix,
    }
  }
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 })
    probeWrite(root, probeName)
    const mode = statSync(root).mode & 0o777
    const tightened =
      guard.right._tag === "Tightened" ? `; tightened from ${octal(guard.right.from)}` : ""
    return {
      name: "store",
      ok: true,
      required: true,
      detail: `${root} is writable (mode ${octal(mode)}${tightened})`,
    }
  } catch (e) {
    return {
      name: "store",
      ok: false,
      required: true,
      detail: `${root} is not writable: ${(e as Error).message}`,
      fix: "fix its permissions, or choose another with --store-root / CODEX_TASKS_HOME",
    }
  }
}

/** Checks git (needed for --repo and for codex's trusted-directory check). */
export const checkGit = (): Effect.Effect<Check> =>
  Effect.map(run("git", ["--version"]), (r) => ({
    name: "git",
    ok: r.ok,
    required: false,
    detail: r.ok ? r.out : "git not found",
    fix: "install git (needed for --repo, and codex trusts only git repositories by default)",
  }))

/** Checks the Node.js version. */
export const checkNode = (version = process.versions.node): Check => {
  const major = Number(version.split(".")[0])
  return {
    name: "node",
    ok: major >= 20,
    required: true,
    detail: `Node.js ${version}`,
    fix: "install Node.js 20 or newer",
  }
}

/** Every check, in the order `doctor` prints them. */
export const runChecks = (o: {
  readonly codexBin: string
  readonly storeRoot: string
}): Effect.Effect<Array<Check>> =>
  Effect.gen(function* () {
    const codex = yield* checkCodex(o.codexBin)
    const store = checkStore(o.storeRoot)
    const git = yield* checkGit()
    return [checkNode(), ...codex, ...checkAuth(), store, git]
  })
