import { Cause, Deferred, Effect, Layer, Queue } from "effect"
import type { CodexExec } from "../exec/CodexExec.js"
import type { Handshake } from "../launcher/protocol.js"
import { WorkerLauncher } from "../launcher/WorkerLauncher.js"
import { TaskStore } from "../store/TaskStore.js"
import { RunSlots } from "../worker/slot.js"
import { runWorker } from "../worker/Worker.js"
import { makeWorkerControl, WorkerControl } from "../worker/WorkerControl.js"
import type { FakeProcesses } from "./ProcessesFake.js"

/** Fake pids of in-process workers start here (clear of the pids tests usually script). */
export const FIRST_IN_PROCESS_PID = 700_000

/**
 * A `WorkerLauncher` that runs each worker as a fiber of this process instead of a detached
 * process: with the `CodexExec` given (e.g. `makeFakeCodexExec`) and the store of the context,
 * each worker a process of the fake table `fake`. The fake process takes signals as the real
 * worker does (SIGTERM/SIGINT stop now, SIGUSR1 after the turn, SIGKILL ends it at once) and
 * exits when the worker's fiber ends. Workers are interrupted when the layer's scope closes.
 */
export const inProcessLauncher = (
  fake: FakeProcesses,
  codex: Layer.Layer<CodexExec>,
): Layer.Layer<WorkerLauncher, never, TaskStore> =>
  Layer.scoped(
    WorkerLauncher,
    Effect.gen(function* () {
      const store = yield* TaskStore
      const scope = yield* Effect.scope
      // Workers are forked by this fiber, not by the caller: like a process of its own, a worker
      // must not inherit the caller's fiber state (the task lock `send` holds while launching, its
      // uninterruptible region).
      const pending = yield* Queue.unbounded<Effect.Effect<void>>()
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(Queue.take(pending), (worker) => Effect.forkIn(worker, scope)),
        ),
      )
      let nextPid = FIRST_IN_PROCESS_PID
      return {
        launch: (request, _cwd, _stderr, onNotice) =>
          Effect.gen(function* () {
            const pid = nextPid++
            const { control, request: requestStop } = yield* makeWorkerControl
            const answer = yield* Deferred.make<Handshake>()
            const killed = yield* Deferred.make<void>()
            const self = yield* fake.spawn({
              pid,
              command: `codex-tasks __worker (in-process)`,
              ignores: ["SIGTERM", "SIGINT", "SIGUSR1", "SIGHUP"],
              onSignal: (signal) =>
                signal === "SIGKILL"
                  ? Deferred.succeed(killed, undefined)
                  : signal === "SIGUSR1"
                    ? requestStop("after-turn")
                    : signal === "SIGHUP"
                      ? Effect.void
                      : requestStop("now"),
            })
            const respond = (h: Handshake) => Effect.asVoid(Deferred.succeed(answer, h))
            const worker = runWorker(request, respond, self).pipe(
              Effect.provideService(TaskStore, store),
              Effect.provide(codex),
              Effect.provideService(WorkerControl, control),
              // The request's --max-running, as worker/main.ts provides it to a real worker.
              Effect.provide(
                RunSlots.layer({
                  root: store.root,
                  limit: request._tag === "Notify" ? 0 : (request.maxRunning ?? 0),
                  notice: (n) => Effect.sync(() => onNotice?.(n)),
                }),
              ),
              Effect.raceFirst(Deferred.await(killed)),
              Effect.catchAllCause((cause) =>
                respond({
                  _tag: "Failed",
                  errorTag: "WorkerFailed",
                  message: `the worker failed: ${Cause.pretty(cause)}`,
                }),
              ),
              Effect.ensuring(fake.exit(pid)),
            )
            yield* Queue.offer(pending, worker)
            return { pid, handshake: Deferred.await(answer) }
          }),
      }
    }),
  )
