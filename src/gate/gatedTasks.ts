/**
 * Starting and feeding a task on behalf of a client that is not the command line (MCP
 * `task_start` / `task_send`, `serve`'s API): through the gate (gate.ts), then the `Tasks` façade.
 */
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import { type Backend, fromStoredExecOptions } from "../exec/options.js"
import type { PinnedPath } from "../exec/pinnedPaths.js"
import type { WorkerNotice } from "../launcher/workerNotice.js"
import type { ApprovalAnswer } from "../store/approvals.js"
import { TaskStore } from "../store/TaskStore.js"
import { answerApproval } from "../tasks/approvals.js"
import { Tasks } from "../tasks/Tasks.js"
import { readWorktree } from "../tasks/worktree.js"
import { type GateContext, gateResume, gateStart } from "./gate.js"
import { execOptionsOf, notifyOfArgs, type StartInput } from "./startInput.js"

/** Starts a task as `start` does once the gate let `input` through; its id. */
export const gatedStart = (
  ctx: GateContext,
  input: StartInput,
  onNotice?: (notice: WorkerNotice) => void,
) =>
  Effect.gen(function* () {
    const { args: a, options, pinnedPaths } = yield* gateStart(ctx, input, execOptionsOf(input))
    if (a.repoRef !== undefined && a.repoUrl === undefined) {
      return yield* new UsageError({ message: "repoRef needs repoUrl." })
    }
    return yield* (yield* Tasks).start({
      prompt: a.prompt,
      title: a.title,
      options,
      pinnedPaths,
      repo: a.repoUrl === undefined ? undefined : { url: a.repoUrl, ref: a.repoRef },
      notify: notifyOfArgs(a),
      worktree: a.worktree === undefined ? undefined : { ...a.worktree },
      onNotice,
    })
  })

/**
 * Sends `prompt` as `send` does (`steer`: into the turn in flight; `backend`: switch), refused for
 * a task recorded with options the gate refuses.
 */
export const gatedSend = (
  ctx: GateContext,
  ref: string,
  prompt: string,
  how: { readonly steer?: boolean | undefined; readonly backend?: Backend | undefined } = {},
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const tasks = yield* Tasks
    const loc = yield* tasks.resolve(ref, { includeArchived: true })
    // An archived task gets the service's own refusal.
    let pinnedPaths: ReadonlyArray<PinnedPath> | undefined
    if (!loc.archived) {
      const meta = yield* store.read(loc)
      const options = fromStoredExecOptions(meta.exec, meta)
      pinnedPaths = yield* gateResume(ctx, loc.id, options, readWorktree(loc.dir))
    }
    return yield* tasks.send(ref, prompt, { pinnedPaths, ...how })
  })

/**
 * Answers the request task `ref` waits for, as `approve` / `decline` do (`what`: the refused
 * action, for the message), refused for a task recorded with options the gate refuses (the
 * answer lets its turn go on, so it is judged like a prompt).
 */
export const gatedAnswer = (
  ctx: GateContext,
  ref: string,
  given: Omit<ApprovalAnswer, "at">,
  what: string,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(ref)
    const meta = yield* store.read(loc)
    yield* gateResume(
      ctx,
      loc.id,
      fromStoredExecOptions(meta.exec, meta),
      readWorktree(loc.dir),
      what,
    )
    return yield* answerApproval(ref, given)
  })
