import { Context, Effect, Layer } from "effect"
import * as AppServerLive from "./appServer/AppServerLive.js"
import { CodexExec } from "./CodexExec.js"
import * as CodexExecLive from "./CodexExecLive.js"
import { backendOf } from "./options.js"

/** Settings shared by both backends. */
export interface BackendsConfig {
  readonly codexBin: string
  readonly env?: NodeJS.ProcessEnv | undefined
}

/**
 * The `CodexExec` a worker uses: each run goes to the backend its options name (`codex exec`
 * by default, or the warm `codex app-server` of this layer's scope).
 */
export const layer = (config: BackendsConfig): Layer.Layer<CodexExec> =>
  Layer.scoped(
    CodexExec,
    Effect.gen(function* () {
      const exec = Context.get(yield* Layer.build(CodexExecLive.layer(config)), CodexExec)
      const appServer = Context.get(yield* Layer.build(AppServerLive.layer(config)), CodexExec)
      return {
        run: (request) =>
          backendOf(request.options) === "app-server" ? appServer.run(request) : exec.run(request),
      }
    }),
  )
