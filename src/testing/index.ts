/**
 * `codex-tasks/testing`: run codex-tasks without a real codex or a real model.
 * - `makeFakeCodexExec`: a scripted `CodexExec` layer (events, delays, stderr, exit codes).
 * - `makeFakeAppServer`: a scripted `codex app-server` for the app-server backend's client.
 * - `makeFakeProcesses`: a scripted process table (`Processes` layer) for stop/archive logic.
 * - `startModelServer` + `makeCodexHome`: a scripted OpenAI-Responses-compatible server on
 *   127.0.0.1 for end-to-end tests against the real `codex` binary.
 */

export {
  type FakeAppServer,
  type FakeAppServerScript,
  type FakeTurnStep,
  fakeReplyTurn,
  makeFakeAppServer,
} from "./AppServerFake.js"
export {
  type FakeCodexExec,
  type FakeScript,
  FakeScripts,
  type FakeStep,
  makeFakeCodexExec,
} from "./CodexExecFake.js"
export { codexConfig, codexEnv, makeCodexHome } from "./codexHome.js"
export {
  type ModelServer,
  type ModelServerOptions,
  type RecordedRequest,
  type ScriptStep,
  startModelServer,
} from "./modelServer.js"
export {
  type FakeProcesses,
  type FakeProcessSpec,
  type FakeSignal,
  makeFakeProcesses,
} from "./ProcessesFake.js"
export { FIRST_IN_PROCESS_PID, inProcessLauncher } from "./WorkerLauncherInProcess.js"
