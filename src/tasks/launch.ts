import { existsSync, readFileSync, statSync } from "node:fs"
import { basename, join, resolve as resolvePath } from "node:path"
import { Effect, Option } from "effect"
import { UsageError } from "../domain/exit.js"
import { steeredNote } from "../domain/logEntries.js"
import { budgetSpent, type TaskLimits, tokensUsed } from "../domain/policy.js"
import { promptTooLong } from "../domain/promptLimit.js"
import { appServerRefusals } from "../exec/appServer/params.js"
import { canonicalExtraArgs, extraArgsProblems } from "../exec/extraArgs.js"
import {
  type Backend,
  backendOf,
  type ExecOptions,
  fromStoredExecOptions,
  toStoredExecOptions,
} from "../exec/options.js"
import type { PinnedPath } from "../exec/pinnedPaths.js"
import { WorkerLauncher } from "../launcher/WorkerLauncher.js"
import { signalIfSame, waitGone } from "../processes/control.js"
import type { ProcessesShape } from "../processes/Processes.js"
import { Processes } from "../processes/Processes.js"
import { WORKER_STDERR } from "../store/scratchNames.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { claimEnd, launchNotifier } from "./endNotify.js"
import { BadPath, InvalidTaskState, StartFailed } from "./errors.js"
import { endLeftovers } from "./leftovers.js"
import { cloneRepo } from "./repo.js"
import { checkNotify, fleetExtras, type StartExtras, workerExtras } from "./startExtras.js"
import type { TasksConfigShape } from "./TasksConfig.js"
import { startInWorktree, type WorktreeRequest } from "./worktree.js"

/** What `start` needs. */
export interface StartInput extends StartExtras {
  readonly prompt: string
  readonly title?: string | undefined
  readonly options: ExecOptions
  /** Clone this repository into `options.workingDir` first. */
  readonly repo?: { readonly url: string; readonly ref?: string | undefined } | undefined
  /** Stall/turn timeouts, token budget, usage-limit wait bound, stored with the task. */
  readonly limits?: TaskLimits | undefined
  /** Run the task in a new git worktree of the working directory's repository. */
  readonly worktree?: WorktreeRequest | undefined
  /** Paths the MCP gate checked: the worker refuses to spawn codex once one resolves elsewhere. */
  readonly pinnedPaths?: ReadonlyArray<PinnedPath> | undefined
}

/** A prompt `send` put in the inbox: its receipt before a steer is decided (see `send`'s `accepted`). */
export type AcceptedPrompt = {
  readonly id: string
  readonly seq: number
  readonly logOffset: number
} & ({ readonly status: "started" } | { readonly status: "queued"; readonly position: number })

/** What `send` did with the prompt. */
export type SendReceipt = {
  readonly id: string
  /** The prompt's place in the task's inbox (what `send --wait` waits for). */
  readonly seq: number
  /** Size of `task.log` before the prompt was accepted (where `send --follow` starts). */
  readonly logOffset: number
} & (
  | { readonly status: "started" }
  | { readonly status: "queued"; readonly position: number }
  /** `send --steer`: the prompt joined the turn in flight (no turn of its own). */
  | { readonly status: "joined" }
)

const isDirectory = (p: string) => {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

const blank = (s: string) => s.trim().length === 0

/** The prompt as codex would take it: not empty, not over its length limit. */
const checkPrompt = (prompt: string) => {
  if (blank(prompt)) return Effect.fail(new UsageError({ message: "The prompt is empty." }))
  const tooLong = promptTooLong(prompt)
  return tooLong === undefined ? Effect.void : Effect.fail(new UsageError({ message: tooLong }))
}

// A codex feature name: never something codex's parser could take for a flag.
const FEATURE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

const nonEmpty = <A>(xs: ReadonlyArray<A>) => (xs.length === 0 ? undefined : xs)

const isJsonFile = (path: string) => {
  try {
    JSON.parse(readFileSync(path, "utf8"))
    return true
  } catch {
    return false
  }
}

const pinned = (pinnedPaths: ReadonlyArray<PinnedPath> | undefined) =>
  pinnedPaths === undefined ? {} : { pinnedPaths }

const logSize = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

// How long `send --steer` waits for the worker to join the prompt to the running turn.
const STEER_WAIT_MS = 30_000
const STEER_CHECK_MS = 100
// A log line ending the run a steer was meant for (the next run does not take older steers).
const TURN_END = /"type":"(?:turn\.completed|turn\.failed|invocation_failed)"/

/** The text of `path` from byte `offset` on (empty when it cannot be read). */
const logSince = (path: string, offset: number): string => {
  try {
    const all = readFileSync(path)
    return all.subarray(Math.min(offset, all.length)).toString("utf8")
  } catch {
    return ""
  }
}

// How long a cancelled start waits for its worker to go (it interrupts a codex already started).
const CANCEL_WAIT_MS = 15_000

/** Options a backend cannot run are refused before anything starts, never silently dropped. */
const refusedByBackend = (options: ExecOptions, backend: Backend) => {
  if (
    backend === "exec" &&
    (options.approvals === "ask" || options.approvalTimeoutMs !== undefined)
  ) {
    return Effect.fail(
      new UsageError({
        message:
          "--approvals ask needs --backend app-server (codex exec cannot ask for approvals).",
      }),
    )
  }
  const refusals = backend === "app-server" ? appServerRefusals(options) : []
  return refusals.length === 0
    ? Effect.void
    : Effect.fail(
        new UsageError({
          message: `--backend app-server cannot run this task: ${refusals.join("; ")}.`,
        }),
      )
}

/** `start` and `send`: the operations that launch workers. */
export const makeLaunches = (
  store: TaskStore,
  launcher: WorkerLauncher["Type"],
  config: TasksConfigShape,
  processes: ProcessesShape,
) => {
  const validateOptions = (options: ExecOptions, cwd: string) =>
    Effect.gen(function* () {
      const workingDir = resolvePath(cwd, options.workingDir ?? ".")
      if (!isDirectory(workingDir)) {
        return yield* new BadPath({
          message: `The working directory ${workingDir} does not exist.`,
        })
      }
      let configFile: string | undefined
      if (options.configFile !== undefined) {
        configFile = resolvePath(cwd, options.configFile)
        if (!existsSync(configFile) || basename(configFile) !== "config.toml") {
          return yield* new BadPath({
            message: `--config-file must name an existing config.toml (its directory becomes CODEX_HOME): ${configFile}`,
          })
        }
      }
      // Images are read by codex from its working directory: resolve them against the caller's.
      const images = (options.images ?? []).map((i) => resolvePath(cwd, i))
      for (const image of images) {
        if (!existsSync(image))
          return yield* new BadPath({ message: `The image ${image} does not exist.` })
      }
      let outputSchema: string | undefined
      if (options.outputSchema !== undefined) {
        outputSchema = resolvePath(cwd, options.outputSchema)
        if (!isJsonFile(outputSchema)) {
          return yield* new BadPath({
            message: `--output-schema must name a readable JSON file: ${outputSchema}`,
          })
        }
      }
      const addDirs = (options.addDirs ?? []).map((d) => resolvePath(cwd, d))
      for (const dir of addDirs) {
        if (!isDirectory(dir))
          return yield* new BadPath({ message: `The --add-dir directory ${dir} does not exist.` })
      }
      for (const feature of [
        ...(options.enableFeatures ?? []),
        ...(options.disableFeatures ?? []),
      ]) {
        if (!FEATURE.test(feature))
          return yield* new UsageError({ message: `Invalid feature name: ${feature}` })
      }
      const extra = extraArgsProblems(options.extraArgs ?? [])
      if (extra.length > 0) return yield* new UsageError({ message: extra.join("\n") })
      yield* refusedByBackend(options, backendOf(options))
      return {
        ...options,
        workingDir,
        images,
        ...(configFile === undefined ? {} : { configFile }),
        ...(outputSchema === undefined ? {} : { outputSchema }),
        addDirs: nonEmpty(addDirs),
        enableFeatures: nonEmpty(options.enableFeatures ?? []),
        disableFeatures: nonEmpty(options.disableFeatures ?? []),
        extraArgs: nonEmpty(canonicalExtraArgs(options.extraArgs ?? [])),
      }
    })

  /** Stops a start's worker that has not answered yet and waits (bounded) until it is gone. */
  const cancelStart = (pid: number) =>
    Effect.gen(function* () {
      const identity = yield* processes.identify(pid)
      if (Option.isNone(identity)) return
      yield* signalIfSame(identity.value, "SIGTERM")
      yield* waitGone(identity.value, CANCEL_WAIT_MS)
    }).pipe(Effect.provideService(Processes, processes))

  /** Starts a task: spawns its worker and waits until codex reported the thread id. */
  const start = Effect.fn("Tasks.start")(function* (input: StartInput) {
    yield* checkPrompt(input.prompt)
    const cwd = process.cwd()
    if (input.repo !== undefined) {
      if (input.options.workingDir === undefined) {
        return yield* new UsageError({
          message: "--repo needs --working-dir (where to clone it).",
        })
      }
      if (input.repo.ref?.startsWith("-")) {
        return yield* new UsageError({ message: `Invalid --repo-ref: ${input.repo.ref}` })
      }
      yield* cloneRepo(input.repo.url, resolvePath(cwd, input.options.workingDir), input.repo.ref)
    }
    const options = yield* validateOptions(input.options, cwd)
    yield* checkNotify(input.notify)
    const launch = (workingDir: string) =>
      Effect.gen(function* () {
        const worker = yield* launcher.launch(
          {
            _tag: "Start",
            storeRoot: store.root,
            codexBin: config.codexBin,
            prompt: input.prompt,
            ...(input.title === undefined ? {} : { title: input.title }),
            options: { ...options, workingDir },
            retry: config.retry,
            ...(input.limits === undefined ? {} : { limits: input.limits }),
            ...workerExtras(config.maxRunning, input.notify),
            ...fleetExtras(input.fleetMaxRunning),
            ...pinned(input.pinnedPaths),
          },
          workingDir,
          undefined,
          input.onNotice,
        )
        // Ctrl-C or an MCP cancel before the id (e.g. while the start waits for a run slot)
        // calls the start off: its worker is stopped and gone before this returns, so nothing
        // runs later unseen (codex never starts, or is interrupted before it has a thread).
        const answer = yield* worker.handshake.pipe(
          Effect.onInterrupt(() => cancelStart(worker.pid)),
        )
        if (answer._tag === "Failed") {
          return yield* new StartFailed({ message: answer.message, errorTag: answer.errorTag })
        }
        return { id: answer.id }
      })
    if (input.worktree === undefined) return yield* launch(options.workingDir)
    // A worktree task: codex works in a new worktree of the working directory's repository.
    const { id } = yield* startInWorktree(store.root, options.workingDir, input.worktree, (dir) =>
      launch(dir).pipe(
        Effect.flatMap(({ id }) => Effect.map(store.resolve(id), (loc) => ({ id, dir: loc.dir }))),
      ),
    )
    return { id }
  })

  const resolveActive = (ref: string) =>
    Effect.gen(function* () {
      const loc = yield* store.resolve(ref, { includeArchived: true })
      if (loc.archived) {
        return yield* new InvalidTaskState({ message: `Task ${loc.id} is archived.` })
      }
      return loc
    })

  /**
   * Sends a prompt: queued in the task's inbox under the task lock; if no worker is alive one is
   * spawned (its identity recorded before the lock is released, so concurrent senders see it).
   */
  const send = Effect.fn("Tasks.send")(function* (
    ref: string,
    prompt: string,
    raise: {
      readonly maxTokens?: number | undefined
      /** Run this and every later turn on this backend (`send --backend`). */
      readonly backend?: Backend | undefined
      /** Join the turn in flight (app-server tasks); without one the prompt is queued. */
      readonly steer?: boolean | undefined
      /** Paths the MCP gate checked (see `StartInput`), for the worker this send may spawn. */
      readonly pinnedPaths?: ReadonlyArray<PinnedPath> | undefined
      /** A fleet command's `--max-running`, for the worker this send may spawn. */
      readonly fleetMaxRunning?: number | undefined
      /**
       * Runs under the task lock once the prompt is in the inbox, before anything else (a fleet
       * runner records its receipt there, so a redelivered message is not queued twice).
       */
      readonly accepted?: ((receipt: AcceptedPrompt) => Effect.Effect<void>) | undefined
    } = {},
  ) {
    yield* checkPrompt(prompt)
    const loc = yield* resolveActive(ref)
    // Proto- and flat-era ids were generated locally: there is no Codex thread to resume.
    const format = yield* store.format(loc)
    if (format === "proto" || format === "flat") {
      return yield* new InvalidTaskState({
        message: `Task ${loc.id} predates Codex thread ids (created by codex proto) and cannot be resumed; start a new task.`,
      })
    }
    const meta = yield* store.read(loc)
    if (meta.state === "ARCHIVED") {
      return yield* new InvalidTaskState({
        message: `Task ${loc.id} is being archived (run \`codex-tasks archive ${loc.id}\` to finish).`,
      })
    }
    const decision = yield* store
      .withLock(
        loc,
        Effect.gen(function* () {
          // Again under the lock: an `archive` may have marked the task since the read above.
          const current = yield* store.read(loc)
          if (current.state === "ARCHIVED") {
            return yield* new InvalidTaskState({ message: `Task ${loc.id} is archived.` })
          }
          // --max-tokens: a spent budget refuses the prompt unless the send raises it.
          const limits = {
            ...current.limits,
            ...(raise.maxTokens === undefined ? {} : { max_tokens: raise.maxTokens }),
          }
          if (budgetSpent(limits, current.usage)) {
            return yield* new InvalidTaskState({
              message: `Task ${loc.id} has spent its token budget (${tokensUsed(current.usage)} of ${limits.max_tokens} tokens); send with a higher --max-tokens to continue.`,
            })
          }
          if (raise.maxTokens !== undefined) yield* store.update(loc, (m) => ({ ...m, limits }))
          if (raise.backend !== undefined) {
            const stored = fromStoredExecOptions(current.exec, current)
            yield* refusedByBackend(stored, raise.backend)
            if (backendOf(stored) !== raise.backend) {
              const backend = raise.backend
              // A Rust-era task has no `exec` block: it gets one with what its fields meant.
              yield* store.update(loc, (m) => ({
                ...m,
                exec: { ...(m.exec ?? toStoredExecOptions(stored)), backend },
              }))
            }
          }
          const backend = raise.backend ?? backendOf(fromStoredExecOptions(current.exec, current))
          if (raise.steer === true && backend !== "app-server") {
            return yield* new InvalidTaskState({
              message: `Task ${loc.id} runs on codex exec, which cannot join a running turn; only a task on --backend app-server can be steered (switch it with send --backend app-server).`,
            })
          }
          const alive = yield* store.workerAlive(loc)
          if (alive === "unknown") {
            return yield* new InvalidTaskState({
              message: `Task ${loc.id} has a process (task.pid) this tool cannot verify; stop it first.`,
            })
          }
          const logOffset = logSize(store.logPath(loc))
          // A steer joins the turn in flight, if the worker still finds one running.
          const steering = raise.steer === true && alive
          const receipt = yield* store.inboxPush(loc, prompt, steering)
          const base = { id: loc.id, seq: receipt.seq, logOffset }
          if (raise.accepted !== undefined) {
            yield* raise.accepted(
              alive
                ? { ...base, status: "queued", position: receipt.position }
                : { ...base, status: "started" },
            )
          }
          if (alive) {
            return { ...base, status: "queued", position: receipt.position, steering } as const
          }
          // Stored RUNNING with no worker: the last one was lost, and nobody notified its end yet
          // (its run id goes when the new worker records its own).
          const lostRun =
            current.state === "RUNNING" ? yield* store.readRunRecord(loc) : Option.none()
          const lost =
            Option.isSome(lostRun) &&
            (yield* claimEnd(loc, lostRun.value.runId, "worker_lost").pipe(
              Effect.provideService(TaskStore, store),
              Effect.provideService(WorkerLauncher, launcher),
            ))
              ? lostRun.value.runId
              : undefined
          yield* endLeftovers(loc).pipe(Effect.provideService(Processes, processes))
          const worker = yield* launcher
            .launch(
              {
                _tag: "Resume",
                storeRoot: store.root,
                codexBin: config.codexBin,
                taskId: loc.id,
                retry: config.retry,
                ...workerExtras(config.maxRunning),
                ...fleetExtras(raise.fleetMaxRunning),
                ...pinned(raise.pinnedPaths),
              },
              meta.working_dir !== undefined && isDirectory(meta.working_dir)
                ? meta.working_dir
                : process.cwd(),
              join(loc.dir, WORKER_STDERR),
            )
            .pipe(
              // No worker, no queued prompt: the caller is told, nothing waits for a later send.
              Effect.tapError(() => store.inboxRemove(loc, receipt.seq).pipe(Effect.ignore)),
            )
          const identity = yield* processes.identify(worker.pid)
          if (Option.isSome(identity)) yield* store.writeWorker(loc, identity.value)
          // A `waiting` left by a worker that is gone (killed while it waited) is not this one's.
          yield* store.update(loc, ({ waiting: _, ...m }) => ({ ...m, state: "RUNNING" }))
          return { ...base, status: "started", worker, lost } as const
        }),
        // Queued prompt and launched worker go together: a Ctrl-C or an MCP cancel in between
        // would leave the prompt in the inbox with no worker to run it.
      )
      .pipe(Effect.uninterruptible)
    if (decision.status === "queued") {
      const { steering, ...queued } = decision
      if (!steering) return queued as SendReceipt
      const joined = yield* steerOutcome(loc, queued.logOffset, queued.seq)
      if (!joined) return queued as SendReceipt
      const { position: _, ...rest } = queued
      return { ...rest, status: "joined" } as SendReceipt
    }
    // A worker that could not take over must not leave the prompt to surprise a later send.
    const unqueue = store.withLock(loc, store.inboxRemove(loc, decision.seq)).pipe(Effect.ignore)
    const answer = yield* decision.worker.handshake.pipe(Effect.tapError(() => unqueue))
    if (answer._tag === "Failed") {
      yield* unqueue
      return yield* new StartFailed({ message: answer.message, errorTag: answer.errorTag })
    }
    if (decision.lost !== undefined) {
      yield* launchNotifier(loc, decision.lost, "worker_lost").pipe(
        Effect.provideService(TaskStore, store),
        Effect.provideService(WorkerLauncher, launcher),
      )
    }
    const { worker: _, lost: _lost, ...receipt } = decision
    return receipt satisfies SendReceipt
  })

  /**
   * Whether the worker steered prompt `seq` into the turn in flight. The worker decides under the
   * task lock: it removes the entry and notes it in the log (joined), or leaves it to run as a
   * queued prompt; it steers only into a run that began before the prompt was accepted. So,
   * looked at under the lock: the note means joined; the entry taken as a queued prompt, or the
   * turn that was in flight having ended (a turn end in the log), means queued.
   */
  const steerOutcome = (loc: TaskLocation, logOffset: number, seq: number) =>
    Effect.gen(function* () {
      const decided = store.withLock(
        loc,
        Effect.gen(function* () {
          const text = logSince(store.logPath(loc), logOffset)
          if (text.includes(steeredNote(seq))) return true
          const pending = yield* store.inboxPending(loc)
          if (!pending.some((e) => e.seq === seq)) return false
          return TURN_END.test(text) || !(yield* store.workerAlive(loc)) ? false : undefined
        }),
      )
      for (let waited = 0; waited < STEER_WAIT_MS; waited += STEER_CHECK_MS) {
        const joined = yield* decided
        if (joined !== undefined) return joined
        yield* Effect.sleep(STEER_CHECK_MS)
      }
      return false
    }).pipe(Effect.catchAll(() => Effect.succeed(false)))

  /** Whether steered prompt `seq` joined the turn in flight (`send --steer`'s answer, asked again). */
  const steered = (ref: string, logOffset: number, seq: number) =>
    Effect.flatMap(store.resolve(ref, { includeArchived: true }), (loc) =>
      steerOutcome(loc, logOffset, seq),
    )

  return { start, send, steered } as const
}
