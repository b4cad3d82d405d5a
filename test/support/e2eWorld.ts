import { afterEach } from "vitest"
import { startModelServer } from "../../src/testing/index.js"
import { makeCliSandbox } from "./cli.js"

/**
 * The usual world of an e2e file: each `setup()` starts a scripted model server and a CLI
 * sandbox (own CODEX_HOME and store) on it; both, and whatever a test adds to `cleanups`, are
 * removed after each test, last first.
 */
export const e2eWorld = () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const setup = async () => {
    const server = await startModelServer()
    cleanups.push(() => server.close())
    const sandbox = await makeCliSandbox(server)
    cleanups.push(sandbox.dispose)
    return { server, sandbox }
  }
  return { setup, cleanups }
}
