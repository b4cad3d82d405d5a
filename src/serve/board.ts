/**
 * The board's live state: every task as `ls --json --all` prints it, plus what the page shows
 * beside it (worktree branch and changed files, the last activity line of a running task), kept
 * as numbered deltas so that a page reconnecting with the last number it saw gets exactly what it
 * missed (or, when that is too old, a new snapshot).
 */
import { statSync, watch } from "node:fs"
import { Effect } from "effect"
import { tokensUsed } from "../domain/policy.js"
import type { TaskJson } from "../domain/wire.js"
import { makeStyle } from "../render/style.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { readLog } from "../tasks/logReader.js"
import { Tasks } from "../tasks/Tasks.js"
import { worktreeChanges } from "../tasks/taskDiff.js"
import { type TaskView, viewJson, viewOf } from "../tasks/view.js"
import { readWorktree } from "../tasks/worktree.js"

/**
 * One row of the board: the task object, its worktree branch and changed files, its last
 * activity, and the tokens its budget counts with the budget (`start --max-tokens`).
 */
export interface BoardRow extends TaskJson {
  readonly branch: string | null
  readonly changed_files: number | null
  readonly activity: string | null
  readonly tokens_used: number | null
  readonly token_budget: number | null
}

/** A message of the board topic: a snapshot, or what changed since the previous number. */
export type BoardData =
  | { readonly snapshot: ReadonlyArray<BoardRow> }
  | { readonly upsert: ReadonlyArray<BoardRow>; readonly remove: ReadonlyArray<string> }

/** A numbered board message, its data (`BoardData`) as JSON: rendered once for every tab. */
export interface BoardMessage {
  readonly seq: number
  readonly json: string
}

const HISTORY = 1_000
const ACTIVITY_LINES = 40
const plain = makeStyle(false)

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** The last line the transcript of `path` shows, read from its last lines only. */
const lastActivity = (path: string) =>
  Effect.gen(function* () {
    const renderer = makeTranscriptRenderer({ style: plain })
    let last: string | null = null
    yield* readLog(
      path,
      (lines) =>
        Effect.sync(() => {
          for (const l of lines) {
            const shown = renderer
              .line(l.toString("utf8"))
              .split("\n")
              .map((s) => s.trim())
              .filter((s) => s !== "")
            if (shown.length > 0) last = shown[shown.length - 1] ?? last
          }
        }),
      { lastLines: ACTIVITY_LINES },
    ).pipe(Effect.ignore)
    return last === null ? null : (last as string).slice(0, 300)
  })

/**
 * The numbered deltas of a set of rows (kept as JSON), and who listens: what the local board and
 * the fleet's board (serve/fleetBoard.ts) both publish through.
 */
export const makeRowFeed = () => {
  const rows = new Map<string, string>()
  const history: Array<BoardMessage> = []
  const listeners = new Set<(m: BoardMessage) => void>()
  let seq = 0

  const publish = (data: BoardData) => {
    seq++
    const message = { seq, json: JSON.stringify(data) }
    history.push(message)
    if (history.length > HISTORY) history.shift()
    for (const l of listeners) l(message)
  }

  // The rows are kept as JSON: a snapshot is their texts joined, not 1,000 parses and a stringify.
  const snapshot = (): BoardMessage => ({
    seq,
    json: `{"snapshot":[${[...rows.values()].join(",")}]}`,
  })

  return {
    /**
     * Publishes the rows of `upserts` that differ from the kept ones; with `complete` (they are
     * every row), also the removal of kept rows not among them. The ids removed.
     */
    update: (upserts: ReadonlyArray<BoardRow>, complete: boolean): ReadonlyArray<string> => {
      const upsert: Array<BoardRow> = []
      for (const row of upserts) {
        const text = JSON.stringify(row)
        if (rows.get(row.id) === text) continue
        rows.set(row.id, text)
        upsert.push(row)
      }
      const seen = new Set<string>(upserts.map((r) => r.id))
      const remove = complete ? [...rows.keys()].filter((id) => !seen.has(id)) : []
      for (const id of remove) rows.delete(id)
      if (upsert.length > 0 || remove.length > 0) publish({ upsert, remove })
      return remove
    },
    /**
     * Starts telling `listener` every message after `after` (what it missed first, in order), or,
     * when `after` is unknown or too old, a snapshot first. Returns the way to stop.
     */
    subscribe: (after: number | undefined, listener: (m: BoardMessage) => void) => {
      const oldest = history[0]?.seq ?? seq + 1
      if (after === undefined || after > seq || after < oldest - 1) listener(snapshot())
      else for (const m of history) if (m.seq > after) listener(m)
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    /** The newest message number. */
    current: () => seq,
  }
}

/** What a page subscribes to for the board's rows. */
export type RowFeed = ReturnType<typeof makeRowFeed>

/** The board feed of this machine's store: rows, their deltas, and who listens. */
export const makeBoard = Effect.gen(function* () {
  const tasks = yield* Tasks
  const store = yield* TaskStore
  const feed = makeRowFeed()
  // What costs a file read or git per task, kept while what it depends on is unchanged.
  const extras = new Map<string, { key: string; row: Omit<BoardRow, keyof TaskJson> }>()

  const extrasOf = (v: TaskView) =>
    Effect.gen(function* () {
      const log = store.logPath(v.loc)
      const key = `${v.meta.updated_at}|${v.state}|${v.loc.dir}|${v.state === "RUNNING" ? sizeOf(log) : ""}`
      const kept = extras.get(v.loc.id)
      if (kept?.key === key) return kept.row
      const w = readWorktree(v.loc.dir)
      const changed =
        w === undefined
          ? null
          : yield* worktreeChanges(w, { color: false, patch: false }).pipe(
              Effect.map((c) => c.files.length),
              Effect.orElseSucceed(() => null),
            )
      const row = {
        tokens_used: v.meta.usage === undefined ? null : tokensUsed(v.meta.usage),
        token_budget: v.meta.limits?.max_tokens ?? null,
        branch: w?.branch ?? null,
        changed_files: changed,
        activity: v.state === "RUNNING" ? yield* lastActivity(log) : null,
      }
      extras.set(v.loc.id, { key, row })
      return row
    })

  const rowsOf = (views: ReadonlyArray<TaskView>) =>
    Effect.forEach(views, (v) =>
      Effect.map(extrasOf(v), (extra): BoardRow => ({ ...viewJson(v), ...extra })),
    )

  /**
   * Reads the whole store again (as `ls --json --all`) and publishes what changed (nothing when
   * nothing did); the running tasks.
   */
  const refresh = Effect.gen(function* () {
    const { views } = yield* tasks.list({ includeArchived: true })
    for (const id of feed.update(yield* rowsOf(views), true)) extras.delete(id)
    return views.filter((v) => v.state === "RUNNING").map((v) => v.loc)
  })

  /**
   * Reads only `locs` (the running tasks) again, as `ls` would show them, and publishes what
   * changed; fails when one is gone or moved (a full `refresh` is due then).
   */
  const refreshSome = (locs: ReadonlyArray<TaskLocation>) =>
    Effect.gen(function* () {
      const views = yield* Effect.forEach(locs, (loc) =>
        Effect.flatMap(store.read(loc), (meta) => viewOf(store, loc, meta, { withResult: false })),
      )
      feed.update(yield* rowsOf(views), false)
      return views.filter((v) => v.state === "RUNNING").map((v) => v.loc)
    })

  return { refresh, refreshSome, subscribe: feed.subscribe, current: feed.current }
})

/** The board feed's interface. */
export type Board = Effect.Effect.Success<typeof makeBoard>

/**
 * Keeps `board` up to date for the rest of the scope: the whole store soon after its root changes
 * (a task appears, moves, goes) and every `FULL_RECHECK_MS`; the running tasks alone at most every
 * `TASK_DIR_MS` while they write to their directories, and every `recheckMs` (a lost worker
 * changes no file).
 */
export const keepFresh = (board: Board, root: string, recheckMs: number) =>
  Effect.gen(function* () {
    let rootChanged = true
    let taskChanged = false
    const watchers = new Map<string, ReturnType<typeof watch>>()
    const watchDir = (dir: string) => {
      if (watchers.has(dir)) return
      try {
        const w = watch(dir, () => {
          if (dir === root) rootChanged = true
          else taskChanged = true
        })
        w.on("error", () => w.close())
        watchers.set(dir, w)
      } catch {}
    }
    const unwatchAllBut = (keep: ReadonlySet<string>) => {
      for (const [dir, w] of watchers) {
        if (keep.has(dir)) continue
        w.close()
        watchers.delete(dir)
      }
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => unwatchAllBut(new Set())))
    watchDir(root)
    let running: ReadonlyArray<TaskLocation> = []
    let sinceFull = 0
    let sinceSome = 0
    const none = (): ReadonlyArray<TaskLocation> => []
    for (;;) {
      const full = rootChanged || sinceFull >= FULL_RECHECK_MS
      const some =
        running.length > 0 && ((taskChanged && sinceSome >= TASK_DIR_MS) || sinceSome >= recheckMs)
      if (full || some) {
        rootChanged = false
        taskChanged = false
        sinceSome = 0
        if (full) sinceFull = 0
        running = full
          ? yield* board.refresh.pipe(Effect.orElseSucceed(none))
          : yield* board.refreshSome(running).pipe(
              Effect.catchAll(() =>
                Effect.sync(() => {
                  rootChanged = true
                  return running
                }),
              ),
            )
        for (const loc of running) watchDir(loc.dir)
        unwatchAllBut(new Set([root, ...running.map((l) => l.dir)]))
      }
      yield* Effect.sleep(TICK_MS)
      sinceFull += TICK_MS
      sinceSome += TICK_MS
    }
  })

// How soon a change of the store root is shown (a burst of events is one refresh), how often at
// most the writes of running tasks (their logs) refresh them, and how often the whole store is
// read again anyway.
const TICK_MS = 100
const TASK_DIR_MS = 1_000
const FULL_RECHECK_MS = 5_000
