import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { defaultRetryPolicy } from "../../src/domain/retryPolicy.js"
import * as WorkerLauncher from "../../src/launcher/WorkerLauncher.js"

const request = (codexBin: string, storeRoot: string) =>
  ({
    _tag: "Resume",
    storeRoot,
    codexBin,
    taskId: "0199d7c3-0a11-7b22-8c33-4d4e5f607182",
    retry: defaultRetryPolicy,
  }) as const

describe("WorkerLauncher", () => {
  it.live("never launches a worker whose codex is not an absolute path", () => {
    const dir = mkdtempSync(join(tmpdir(), "ct-launcher-"))
    const marker = join(dir, "launched")
    return Effect.gen(function* () {
      const launcher = yield* WorkerLauncher.WorkerLauncher
      const error = yield* Effect.flip(launcher.launch(request("codex-in-repo", dir), dir))
      assert.strictEqual(
        error.message,
        "The codex executable was not found (codex-in-repo is not on PATH); install codex or pass --codex-bin.",
      )
      assert.isFalse(existsSync(marker), "no process was started")
      // The same launcher with an absolute codex does start its command (the marker works).
      const worker = yield* launcher.launch(request("/usr/bin/codex", dir), dir)
      yield* Effect.ignore(worker.handshake)
      assert.isTrue(existsSync(marker))
    }).pipe(
      Effect.provide(WorkerLauncher.layer(["/bin/sh", "-c", `touch ${marker}`])),
      Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))),
    )
  })
})
