/** codex-tasks as a library: the task service, the codex exec client, the store and the schemas. */
export * from "./domain/errors.js"
export * as Events from "./domain/events.js"
export { ExitCode } from "./domain/exit.js"
export * from "./domain/task.js"
export { newThreadArgv, resumeArgv } from "./exec/argv.js"
export {
  CodexExec,
  type ExecOutput,
  type ExecRequest,
  type ExecResult,
  type ExecRun,
} from "./exec/CodexExec.js"
export * as CodexExecLive from "./exec/CodexExecLive.js"
export { classify, type ExecOutcome } from "./exec/classify.js"
export { decodeLine, decodeLineBytes, type ExecLine } from "./exec/decode.js"
export { DECODE_CAP_BYTES, MAX_LINE_BYTES } from "./exec/lines.js"
export type { ExecOptions, SandboxMode } from "./exec/options.js"
export { ProcessIdentity } from "./processes/identity.js"
export * as ProcessesLive from "./processes/live.js"
export { Processes, type ProcessesShape, RUN_MARKER_VAR } from "./processes/Processes.js"
export { resolveStoreRoot } from "./store/storeRootPath.js"
export { TaskStore } from "./store/TaskStore.js"
export { Tasks, TasksConfig } from "./tasks/Tasks.js"
export { VERSION } from "./version.js"
