import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { defaultRetryPolicy } from "../../src/domain/retryPolicy.js"
import type { PrewarmedWorker } from "../../src/launcher/prewarm.js"
import type { WorkerRequest } from "../../src/launcher/protocol.js"
import * as WorkerLauncher from "../../src/launcher/WorkerLauncher.js"

// A request the pipe cannot carry (here a limit past 2^53 ms, as `--turn-timeout 9999999999999d`
// once produced): the start fails with a clear message and no worker is left waiting for it.
const unencodable = (storeRoot: string): WorkerRequest => ({
  _tag: "Start",
  storeRoot,
  codexBin: "/usr/bin/codex",
  prompt: "hello",
  options: { workingDir: storeRoot, skipGitRepoCheck: true },
  retry: defaultRetryPolicy,
  limits: { turn_timeout_ms: 9999999999999 * 86_400_000 },
})

const KEY = Symbol.for("codex-tasks/prewarmed-worker")
const registry = globalThis as { [KEY]?: PrewarmedWorker }

describe("WorkerLauncher with a request it cannot encode", () => {
  it.live("fails with the field named, before any worker is spawned", () => {
    const dir = mkdtempSync(join(tmpdir(), "ct-launcher-"))
    const marker = join(dir, "launched")
    return Effect.gen(function* () {
      const launcher = yield* WorkerLauncher.WorkerLauncher
      const error = yield* Effect.flip(launcher.launch(unencodable(dir), dir))
      assert.strictEqual(error._tag, "WorkerLaunchFailed")
      assert.match(error.message, /^cannot hand the task to a worker: limits\.turn_timeout_ms: /)
      assert.isFalse(existsSync(marker), "no process was started")
    }).pipe(
      Effect.provide(WorkerLauncher.layer(["/bin/sh", "-c", `touch ${marker}`])),
      Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))),
    )
  })

  it.live("leaves a prewarmed worker unclaimed, so it is released at exit", () => {
    const dir = mkdtempSync(join(tmpdir(), "ct-launcher-"))
    const command = ["/bin/sh", "-c", "cat >/dev/null"]
    let child: ChildProcess | undefined
    return Effect.gen(function* () {
      child = spawn(command[0]!, command.slice(1), { stdio: ["pipe", "pipe", "ignore"] })
      const scratchDir = join(dir, ".tmp", "start-prewarmed")
      mkdirSync(scratchDir, { recursive: true })
      const worker: PrewarmedWorker = {
        child,
        storeRoot: dir,
        scratchDir,
        command,
        gone: false,
        claimed: false,
      }
      registry[KEY] = worker
      const launcher = yield* WorkerLauncher.WorkerLauncher
      const error = yield* Effect.flip(launcher.launch(unencodable(dir), dir))
      assert.strictEqual(error._tag, "WorkerLaunchFailed")
      assert.isFalse(worker.claimed, "the prewarmed worker was not taken")
    }).pipe(
      Effect.provide(WorkerLauncher.layer(command)),
      Effect.ensuring(
        Effect.sync(() => {
          delete registry[KEY]
          child?.kill("SIGKILL")
          rmSync(dir, { recursive: true, force: true })
        }),
      ),
    )
  })
})
