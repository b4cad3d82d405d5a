import { type ChildProcess, spawn } from "node:child_process"
import { Data, Deferred, Duration, Effect, FiberId } from "effect"
import { sendSignal } from "./procfs.js"

/**
 * The one way this program starts child processes (launcher/prewarm.ts, which must load no Effect,
 * keeps its own spawn and hands its child over through `adoptDetached`). Always argv, never a
 * shell: a caller that wants `sh -c` says so.
 */

/** A child process could not be started (no such program, a missing working directory, …). */
export class ChildNotStarted extends Data.TaggedError("ChildNotStarted")<{
  readonly command: string
  /** The errno code (`ENOENT`, `EACCES`, …), `UNKNOWN` when there is none. */
  readonly code: string
  readonly message: string
}> {}

/** How a child ended: one of the two is set. */
export interface ChildEnd {
  readonly exitCode: number | null
  readonly signal: string | null
}

/** What `runToEnd` returns: how the child ended (a non-zero exit is data) and what it printed. */
export interface RunResult extends ChildEnd {
  readonly stdout: string
  readonly stderr: string
  /** True when `timeoutMs` passed and its process group was killed. */
  readonly timedOut: boolean
}

/** Options of `runToEnd`. */
export interface RunOptions {
  readonly cwd?: string | undefined
  /** The whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Written to its stdin, which is then closed; without it stdin is /dev/null. */
  readonly stdin?: string | undefined
  /** After this long (on Effect's Clock) the child's group is killed (`timedOut`). */
  readonly timeoutMs?: number | undefined
  /** Only the last this many bytes of each of stdout and stderr are kept. */
  readonly maxOutputBytes?: number | undefined
  /**
   * stdout and stderr both go to this open file instead of pipes, and the run ends when the child
   * exits (a background job that still holds the file keeps nobody waiting); the output fields
   * are then empty.
   */
  readonly outputFd?: number | undefined
  /**
   * Own session and process group (default true): interruption and the timeout kill the whole
   * group. False keeps the caller's terminal (git may ask for credentials on it); only the child
   * itself is killed then.
   */
  readonly detachedGroup?: boolean | undefined
}

const spawnFailed = (command: string, e: unknown) =>
  new ChildNotStarted({
    command,
    code: (e as NodeJS.ErrnoException | undefined)?.code ?? "UNKNOWN",
    message: e instanceof Error ? e.message : String(e),
  })

/** SIGKILLs `pid`'s process group (or `pid` alone when it has none of its own). */
const killTree = (pid: number | undefined, group: boolean) => {
  if (pid !== undefined) sendSignal(group ? -pid : pid, "SIGKILL")
}

/** Keeps the last `max` bytes of a stream. */
const tail = (max: number) => {
  const chunks: Array<Buffer> = []
  let size = 0
  return {
    push: (c: Buffer) => {
      chunks.push(c)
      size += c.length
      while (size - (chunks[0]?.length ?? 0) >= max && chunks.length > 1) {
        size -= chunks.shift()!.length
      }
    },
    text: () => {
      const all = Buffer.concat(chunks)
      return all.subarray(Math.max(0, all.length - max)).toString("utf8")
    },
  }
}

/**
 * Runs `cmd args` to its end and returns its exit status and output; a non-zero exit is a
 * success value, a child that could not start is `ChildNotStarted`. Interruption kills its process
 * group (SIGKILL) and waits for its end.
 */
export const runToEnd = (
  cmd: string,
  args: ReadonlyArray<string>,
  options: RunOptions = {},
): Effect.Effect<RunResult, ChildNotStarted> =>
  Effect.suspend(() => {
    const group = options.detachedGroup ?? true
    const toFile = options.outputFd !== undefined
    let child: ChildProcess
    try {
      child = spawn(cmd, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: group,
        stdio: [
          options.stdin === undefined ? "ignore" : "pipe",
          options.outputFd ?? "pipe",
          options.outputFd ?? "pipe",
        ],
      })
    } catch (e) {
      return Effect.fail(spawnFailed(cmd, e))
    }
    const max = options.maxOutputBytes ?? Number.POSITIVE_INFINITY
    const out = tail(max)
    const err = tail(max)
    child.stdout?.on("data", out.push)
    child.stderr?.on("data", err.push)
    if (child.stdin) {
      child.stdin.on("error", () => {}) // it may exit before reading its input
      child.stdin.end(options.stdin)
    }
    const ended = Effect.async<ChildEnd, ChildNotStarted>((resume) => {
      child.once("error", (e) => resume(Effect.fail(spawnFailed(cmd, e))))
      // `exit`, not `close`, when the output goes to a file: the end of the child itself.
      child.once(toFile ? "exit" : "close", (code: number | null, signal: string | null) =>
        resume(Effect.succeed({ exitCode: code, signal: signal ?? null })),
      )
    })
    const kill = Effect.sync(() => killTree(child.pid, group))
    const withOutput = (end: ChildEnd, timedOut: boolean): RunResult => ({
      ...end,
      stdout: out.text(),
      stderr: err.text(),
      timedOut,
    })
    const run = Effect.map(ended, (end) => withOutput(end, false))
    const bounded =
      options.timeoutMs === undefined
        ? run
        : run.pipe(
            Effect.timeoutTo({
              duration: Duration.millis(options.timeoutMs),
              onSuccess: Effect.succeed,
              onTimeout: () =>
                Effect.zipRight(
                  kill,
                  Effect.map(ended, (end) => withOutput(end, true)),
                ),
            }),
            Effect.flatten,
          )
    return bounded.pipe(Effect.onInterrupt(() => kill))
  })

/** Options of `startDetached`: what it is given and who reads its output. */
export interface DetachedOptions {
  readonly cwd?: string | undefined
  /** The whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Written to its stdin once it runs, which is then closed. */
  readonly stdin?: string | undefined
  /** Keep its stdin open for `write` (a conversation over the pipe); `stdin` is then ignored. */
  readonly keepStdinOpen?: boolean | undefined
  /** Its stderr: a pipe read by `onStderr` (default), an open file, or /dev/null. */
  readonly stderr?: "pipe" | "ignore" | number | undefined
  /** Each chunk of stdout, bytes as they came (line splitting is the caller's). */
  readonly onStdout?: ((chunk: Buffer) => void) | undefined
  /** Each chunk of stderr when it is a pipe. */
  readonly onStderr?: ((chunk: Buffer) => void) | undefined
  /** Once it has exited and its pipes are closed, after the last chunk. */
  readonly onClose?: ((end: ChildEnd) => void) | undefined
}

/** A long-lived child in its own session and process group. */
export interface DetachedChild {
  readonly pid: number
  /** Resolves once it has exited and its pipes are closed. */
  readonly closed: Effect.Effect<ChildEnd>
  /** Stops reading it (no more callbacks), closes its stdout and lets this process exit first. */
  readonly release: () => void
  /** Writes to its stdin (with `keepStdinOpen`; false once the pipe is closed). */
  readonly write: (text: string) => boolean
  /** Closes its stdin. */
  readonly endStdin: () => void
}

/** Wires the callbacks and stdin of a running child; `closed` resolves at its `close`. */
const wire = (child: ChildProcess, options: DetachedOptions): DetachedChild => {
  const closed = Deferred.unsafeMake<ChildEnd>(FiberId.none)
  const onData = options.onStdout
  const onErr = options.onStderr
  if (onData) child.stdout?.on("data", onData)
  if (onErr) child.stderr?.on("data", onErr)
  const onClose = (code: number | null, signal: string | null) => {
    const end = { exitCode: code, signal: signal ?? null }
    options.onClose?.(end)
    Deferred.unsafeDone(closed, Effect.succeed(end))
  }
  child.once("close", onClose)
  if (child.stdin) {
    child.stdin.on("error", () => {}) // it may exit before reading its input
    if (options.keepStdinOpen !== true) child.stdin.end(options.stdin)
  }
  return {
    pid: child.pid!,
    write: (text) => {
      const stdin = child.stdin
      if (stdin === null || stdin.destroyed || stdin.writableEnded) return false
      stdin.write(text)
      return true
    },
    endStdin: () => {
      child.stdin?.end()
    },
    closed: Deferred.await(closed),
    release: () => {
      if (onData) child.stdout?.removeListener("data", onData)
      if (onErr) child.stderr?.removeListener("data", onErr)
      child.removeListener("close", onClose)
      child.stdout?.destroy()
      child.unref()
    },
  }
}

/**
 * Starts `cmd args` in its own session and process group (a terminal's Ctrl-C never reaches it),
 * stdin and stdout piped; succeeds once it runs, `ChildNotStarted` when it cannot start.
 */
export const startDetached = (
  cmd: string,
  args: ReadonlyArray<string>,
  options: DetachedOptions,
): Effect.Effect<DetachedChild, ChildNotStarted> =>
  Effect.suspend(() => {
    let child: ChildProcess
    try {
      child = spawn(cmd, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ["pipe", "pipe", options.stderr ?? "pipe"],
      })
    } catch (e) {
      return Effect.fail(spawnFailed(cmd, e))
    }
    return Effect.async<DetachedChild, ChildNotStarted>((resume) => {
      child.once("error", (e) => resume(Effect.fail(spawnFailed(cmd, e))))
      child.once("spawn", () => resume(Effect.succeed(wire(child, options))))
    })
  })

/** Takes over a detached child already running (a prewarmed worker) as `startDetached` would. */
export const adoptDetached = (child: ChildProcess, options: DetachedOptions): DetachedChild => {
  child.ref()
  ;(child.stdout as unknown as { ref?: () => void } | null)?.ref?.()
  return wire(child, options)
}
