import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { type Browser, chromium } from "playwright-core"

// Debian's chromium driven by playwright-core (which downloads no browser). On a machine without
// it, the tests install it when they can (root: apt-get); under CI=true a browser still missing
// is a failure, never a silent skip.

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]

const found = () =>
  [process.env.CODEX_TASKS_CHROMIUM, ...CANDIDATES].find(
    (p): p is string => p !== undefined && p !== "" && existsSync(p),
  )

const aptGet = (...args: Array<string>) =>
  spawnSync("apt-get", args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 900_000,
  }).status === 0

/**
 * The chromium executable: found, or installed with apt-get when running as root (after an
 * `apt-get update` when the first try fails). Undefined when there is none; under CI=true that
 * throws instead.
 */
export const ensureChromium = (): string | undefined => {
  let path = found()
  if (path === undefined && process.getuid?.() === 0) {
    if (!aptGet("install", "-y", "-q", "chromium")) {
      aptGet("update", "-q")
      aptGet("install", "-y", "-q", "chromium")
    }
    path = found()
  }
  if (path === undefined && process.env.CI === "true") {
    throw new Error(
      "chromium is missing and could not be installed (apt-get install -y chromium): the browser tests cannot run",
    )
  }
  if (path === undefined) {
    process.stderr.write("browser tests skipped: no chromium (apt-get install -y chromium)\n")
  }
  return path
}

/** Launches chromium headless; `resolve` maps host names to 127.0.0.1 (a DNS rebinding, for tests). */
export const launchChromium = (
  executablePath: string,
  options: { readonly resolve?: ReadonlyArray<string> } = {},
): Promise<Browser> =>
  chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...(options.resolve === undefined || options.resolve.length === 0
        ? []
        : [`--host-resolver-rules=${options.resolve.map((h) => `MAP ${h} 127.0.0.1`).join(", ")}`]),
    ],
  })
