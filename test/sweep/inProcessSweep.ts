import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { Cause, type Duration, Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { faultState, installFaultPlan } from "../../src/store/faults.js"
import type { TaskStore } from "../../src/store/TaskStore.js"
import { Tasks } from "../../src/tasks/Tasks.js"
import { FakeScripts } from "../../src/testing/index.js"
import { makeTasksWorld } from "../support/tasksWorld.js"
import { realTick } from "../support/workerHarness.js"

// The crash sweep in-process (issue 20 §1): the `Tasks` façade over a real store in a temp
// directory, workers as fibers of the in-process launcher playing a scripted codex on the
// TestClock. A crash at point k stops everything at once: the store goes dead (no finalizer can
// write), the caller's fiber is interrupted and every worker gets SIGKILL in the fake table.
// Then the store is "rebooted" (plan removed; lock files left by the dead fibers removed, since
// their owner is this very process and only a real death makes them stale) and the fixed
// recovery runs: status -a, a send to every task, stop -a, status --wait -a.

/** A scripted codex that answers every prompt, slowly enough for a stop to meet a turn. */
const scripts = Array.from({ length: 40 }, (_, i) =>
  FakeScripts.reply(`answer ${i}`, { delay: "2 seconds" }),
)

/** One world: store, fake process table, scripted codex, the `Tasks` layer. */
export const world = Effect.gen(function* () {
  const w = yield* makeTasksWorld(scripts)
  const context = yield* Layer.build(w.layer)
  const options = { workingDir: w.workingDir, skipGitRepoCheck: true }
  return {
    root: w.root,
    fake: w.fake,
    codex: w.codex,
    context,
    options,
    workers: w.workersAlive,
    acked: [] as Array<string>,
  }
})

/** A world. */
export type World = Effect.Effect.Success<typeof world>

/** Runs `effect` to its end on the TestClock (bounded); its exit. */
export const settle = <A, E>(
  effect: Effect.Effect<A, E, Tasks | TaskStore>,
  w: World,
  step: Duration.DurationInput = "1 second",
) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.provide(effect, w.context))
    for (let i = 0; i < 3_000; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      if (faultState().dead) break
      yield* TestClock.adjust(step)
      yield* realTick(1)
    }
    if (Option.isNone(yield* Fiber.poll(fiber))) {
      // crashed (or hung): the caller's process is gone. Its finalizers may wait on the clock
      // (an interrupted start waits for its worker to exit): keep the TestClock moving.
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      for (let i = 0; i < 3_000 && Option.isNone(yield* Fiber.poll(interrupting)); i++) {
        yield* TestClock.adjust(step)
        yield* realTick(1)
      }
      yield* Fiber.join(interrupting)
    }
    return yield* Fiber.await(fiber)
  })

/** A scenario: its setup (never faulted) and the steps a crash may hit. */
export interface Scenario {
  readonly setup: (w: World) => Effect.Effect<string | undefined>
  readonly act: (w: World, id: string | undefined) => Effect.Effect<void>
}

const start = (w: World, prompt: string) =>
  Effect.gen(function* () {
    const exit = yield* settle(
      Effect.flatMap(Tasks, (t) => t.start({ prompt, options: w.options })),
      w,
    )
    if (Exit.isSuccess(exit)) w.acked.push(prompt)
    return Exit.isSuccess(exit) ? exit.value.id : undefined
  })

const send = (w: World, id: string, prompt: string) =>
  Effect.gen(function* () {
    const exit = yield* settle(
      Effect.flatMap(Tasks, (t) => t.send(id, prompt)),
      w,
    )
    if (Exit.isSuccess(exit)) w.acked.push(prompt)
    return exit
  })

const waitAll = (w: World) =>
  settle(
    Effect.flatMap(Tasks, (t) => t.status({ selector: { _tag: "All" }, wait: "all" })),
    w,
  )

/** The scenarios of the in-process sweep. */
export const scenarios: Record<string, Scenario> = {
  start: {
    setup: () => Effect.succeed(undefined),
    act: (w) => Effect.asVoid(Effect.zipRight(start(w, "one"), waitAll(w))),
  },
  "send-idle": {
    setup: (w) => Effect.tap(start(w, "zero"), () => waitAll(w)),
    act: (w, id) =>
      id === undefined
        ? Effect.void
        : Effect.asVoid(Effect.zipRight(send(w, id, "one"), waitAll(w))),
  },
  "start-queued": {
    setup: () => Effect.succeed(undefined),
    act: (w) =>
      Effect.gen(function* () {
        const id = yield* start(w, "one")
        if (id === undefined || faultState().dead) return
        yield* send(w, id, "two")
        if (faultState().dead) return
        yield* waitAll(w)
      }),
  },
}

/** Kills every in-process worker (SIGKILL in the fake table) and waits until they are gone. */
const killWorkers = (w: World) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      const alive = yield* w.workers
      if (alive.length === 0) return
      for (const pid of alive) yield* w.fake.processes.signal(pid, "SIGKILL")
      yield* TestClock.adjust("1 second")
      yield* realTick(1)
    }
  })

const walk = (dir: string, visit: (path: string, name: string) => void): void => {
  if (!existsSync(dir)) return
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path, visit)
    else visit(path, entry.name)
  }
}

/** What a dead process leaves that only its death makes stale: lock files. */
const removeDeadLocks = (root: string) =>
  walk(root, (path, name) => {
    if (name === "task.lock" || name === "task.lock.break" || name === "slots.lock") {
      rmSync(path, { force: true })
    }
  })

const isDefect = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) && (Cause.isDie(exit.cause) || Cause.dieOption(exit.cause)._tag === "Some")

/** The fixed recovery; the names of the calls that died (a defect is an internal error). */
const recover = (w: World) =>
  Effect.gen(function* () {
    const died: Array<string> = []
    const note = (what: string) => (exit: Exit.Exit<unknown, unknown>) => {
      if (isDefect(exit))
        died.push(
          `${what}: ${Cause.pretty((exit as Exit.Failure<unknown, unknown>).cause).split("\n")[0]}`,
        )
    }
    const status = yield* settle(
      Effect.flatMap(Tasks, (t) => t.status({ selector: { _tag: "All" } })),
      w,
    )
    note("status -a")(status)
    for (const dir of readdirSync(w.root).filter((n) => !n.startsWith(".") && n !== "archive")) {
      if (!existsSync(join(w.root, dir, "task.json"))) continue
      note(`send ${dir}`)(yield* send(w, dir, `recover ${dir}`))
    }
    note("stop -a")(
      yield* settle(
        Effect.flatMap(Tasks, (t) => t.stop("all", { afterTurn: false, timeoutMs: 30_000 })),
        w,
      ),
    )
    note("status --wait -a")(yield* waitAll(w))
    return died
  })

const TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/

/** The invariants after the recovery; each violation as a line. */
const check = (w: World, died: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const out: Array<string> = died.map((d) => `inv4: internal error in ${d}`)
    const rel = (p: string) => p.slice(w.root.length + 1)
    const logs: Array<string> = []
    walk(w.root, (path, name) => {
      if (rel(path).startsWith(".tmp/")) return
      if (TEMP.test(name)) return void out.push(`inv1: half-written temp file left: ${rel(path)}`)
      try {
        if (name.endsWith(".json") || name.endsWith(".inflight"))
          JSON.parse(readFileSync(path, "utf8"))
        if (name === "task.log") {
          const text = readFileSync(path, "utf8")
          logs.push(text)
          for (const line of text.split("\n")) if (line !== "") JSON.parse(line)
        }
      } catch (e) {
        out.push(`inv1: ${rel(path)} does not decode: ${(e as Error).message}`)
      }
    })
    if (existsSync(w.root)) {
      for (const name of readdirSync(w.root)) {
        const dir = join(w.root, name)
        if (name.startsWith(".") || name === "archive" || !statSync(dir).isDirectory()) continue
        if (!existsSync(join(dir, "task.json"))) {
          out.push(`inv1: directory without task.json left: ${name}`)
        }
      }
    }
    const ran = new Map<string, number>()
    for (const r of w.codex.requests) ran.set(r.prompt, (ran.get(r.prompt) ?? 0) + 1)
    for (const [prompt, n] of ran) if (n > 1) out.push(`inv2: prompt "${prompt}" ran ${n} times`)
    const dropped = new Set<string>()
    for (const line of logs.join("\n").split("\n")) {
      if (!line.includes('"prompts_dropped"')) continue
      for (const p of (JSON.parse(line) as { prompts?: Array<string> }).prompts ?? [])
        dropped.add(p)
    }
    for (const prompt of w.acked) {
      if (!ran.has(prompt) && !dropped.has(prompt)) {
        out.push(`inv2: acknowledged prompt "${prompt}" neither ran nor was dropped`)
      }
    }
    const alive = yield* w.workers
    if (alive.length > 0) out.push(`inv3: workers alive after stop -a: ${alive.join(", ")}`)
    const list = yield* settle(
      Effect.flatMap(Tasks, (t) => t.list({ includeArchived: false })),
      w,
    )
    if (Exit.isSuccess(list)) {
      for (const v of list.value.views) {
        if (v.state === "RUNNING") out.push(`inv4: task ${v.meta.id} still RUNNING`)
      }
      for (const b of list.value.broken) out.push(`inv1: task ${b.ref} unreadable: ${b.message}`)
    } else out.push(`inv4: the final listing failed`)
    return out
  })

/** The points a scenario's faulted part passes (in-process: every role at once). */
export const tracePoints = (scenario: Scenario) =>
  Effect.scoped(
    Effect.gen(function* () {
      const w = yield* world
      const id = yield* scenario.setup(w)
      const points: Array<string> = []
      installFaultPlan({
        inProcess: true,
        onPoint: (name, _k, detail) => points.push(`${name}@${detail}`),
      })
      yield* scenario.act(w, id)
      installFaultPlan(undefined)
      yield* killWorkers(w)
      return points
    }),
  )

/** Crash at point `k` of the scenario, recover, check; the violations. */
export const crashAt = (scenario: Scenario, k: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const w = yield* world
      const id = yield* scenario.setup(w)
      installFaultPlan({ inProcess: true, crashAt: k })
      yield* scenario.act(w, id)
      // the crash (or the end of the scenario, if k was never reached): everything stops
      yield* killWorkers(w)
      installFaultPlan(undefined)
      removeDeadLocks(w.root)
      const died = yield* recover(w)
      return yield* check(w, died)
    }),
  ).pipe(Effect.ensuring(Effect.sync(() => installFaultPlan(undefined))))
