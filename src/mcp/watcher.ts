import { type FSWatcher, watch } from "node:fs"

/**
 * What reading a resource returns now (a digest), and how long that holds without asking again:
 * by default it may change any time (re-checked periodically); `until-root-changes` (a task that
 * does not exist) is re-checked only after the store root changed; `forever` (an archived task)
 * only when its own directory reports a change.
 */
export interface Fingerprint {
  readonly value: string
  readonly holds?: "forever" | "until-root-changes" | undefined
}

/** What the watcher needs to know about the store, and whom it tells about changes. */
export interface StoreWatcherOptions {
  /** The store root (watched for tasks appearing and disappearing). */
  readonly root: string
  /** The ids of the listed tasks; a different set means the resource list changed. */
  readonly listIds: () => Promise<ReadonlyArray<string>>
  /** The directory whose changes may change `uri` (undefined: none to watch). */
  readonly dirOf: (uri: string) => Promise<string | undefined>
  /** A digest of what reading `uri` returns now; a different one means it was updated. */
  readonly fingerprint: (uri: string) => Promise<string | Fingerprint>
  readonly onListChanged: () => void
  readonly onUpdated: (uri: string) => void
  /** Quiet time before a burst of file events is acted on (default 100 ms). */
  readonly debounceMs?: number
  /** Re-check everything this often, for changes no file event reports (default 2 s). */
  readonly recheckMs?: number
}

/** Subscriptions to resources, kept up to date by file watching. */
export interface StoreWatcher {
  /** Starts reporting updates of `uri` (from what it reads now). */
  readonly subscribe: (uri: string) => Promise<void>
  readonly unsubscribe: (uri: string) => void
  /** Stops every watcher and timer. */
  readonly close: () => void
}

const quietly = <A>(p: Promise<A>): Promise<A | undefined> => p.catch(() => undefined)

interface Entry {
  fingerprint: string | undefined
  holds: Fingerprint["holds"]
  /** The root generation the last check started in. */
  rootSeen: number
  dir?: string | undefined
}

const watchDir = (dir: string, onEvent: () => void): FSWatcher | undefined => {
  try {
    const w = watch(dir, onEvent)
    w.on("error", () => w.close())
    w.unref()
    return w
  } catch {
    return undefined
  }
}

/**
 * Watches the store root and the directories of subscribed tasks (fs.watch, debounced), plus a
 * slow periodic re-check (a worker killed outright changes no file, yet its task reads DIED).
 * Notifies only when the listed ids or a subscribed resource's fingerprint actually changed.
 */
export const makeStoreWatcher = async (options: StoreWatcherOptions): Promise<StoreWatcher> => {
  const debounceMs = options.debounceMs ?? 100
  const subscribed = new Map<string, Entry>()
  const dirWatchers = new Map<string, { watcher: FSWatcher | undefined; uris: Set<string> }>()
  const timers = new Map<string, NodeJS.Timeout>()
  let closed = false
  // Counts the root's file events: a check of a missing task is due once this moved on.
  let rootGeneration = 0
  const probe = async (uri: string, entry: Entry) => {
    entry.rootSeen = rootGeneration
    const now = await quietly(options.fingerprint(uri))
    if (now === undefined) return undefined
    return typeof now === "string" ? { value: now } : now
  }
  let listed = JSON.stringify(await options.listIds().catch(() => []))

  const debounce = (key: string, action: () => Promise<void>) => {
    if (closed) return
    clearTimeout(timers.get(key))
    const timer = setTimeout(() => {
      timers.delete(key)
      if (!closed) void quietly(action())
    }, debounceMs)
    timer.unref()
    timers.set(key, timer)
  }

  // One check per uri at a time; a check asked for meanwhile runs after it.
  const checking = new Map<string, Promise<void>>()
  const check = (uri: string): Promise<void> => {
    const previous = checking.get(uri) ?? Promise.resolve()
    const next = previous.then(async () => {
      const entry = subscribed.get(uri)
      if (entry === undefined || closed) return
      const now = await probe(uri, entry)
      if (now === undefined || !subscribed.has(uri)) return
      entry.holds = now.holds
      if (now.value === entry.fingerprint) return
      entry.fingerprint = now.value
      options.onUpdated(uri)
      // The task may have moved (archived), appeared or gone: watch where it is now.
      await attach(uri, entry)
    })
    checking.set(uri, next)
    return next.finally(() => {
      if (checking.get(uri) === next) checking.delete(uri)
    })
  }
  /** The re-checks due without an event of the uri's own directory. */
  const due = (entry: Entry) =>
    entry.holds === undefined ||
    (entry.holds === "until-root-changes" && entry.rootSeen !== rootGeneration)

  const checkList = async () => {
    const ids = JSON.stringify(await options.listIds())
    if (ids !== listed && !closed) {
      listed = ids
      options.onListChanged()
    }
  }
  const checkAll = async () => {
    const uris = [...subscribed].filter(([, e]) => due(e)).map(([uri]) => uri)
    await Promise.all([quietly(checkList()), ...uris.map(check)])
  }

  const rootWatcher = watchDir(options.root, () => {
    rootGeneration++
    debounce("root", checkAll)
  })
  const recheck = setInterval(() => void quietly(checkAll()), options.recheckMs ?? 2_000)
  recheck.unref()

  const release = (uri: string, dir: string | undefined) => {
    if (dir === undefined) return
    const w = dirWatchers.get(dir)
    if (w === undefined) return
    w.uris.delete(uri)
    if (w.uris.size > 0) return
    w.watcher?.close()
    dirWatchers.delete(dir)
  }

  /** Watches the directory `uri` lives in now (none when it is gone), instead of the last one. */
  const attach = async (uri: string, entry: Entry) => {
    const dir = await quietly(options.dirOf(uri))
    if (dir === entry.dir || subscribed.get(uri) !== entry || closed) return
    release(uri, entry.dir)
    entry.dir = dir
    if (dir === undefined) return
    const existing = dirWatchers.get(dir)
    if (existing !== undefined) existing.uris.add(uri)
    else {
      const uris = new Set([uri])
      const watcher = watchDir(dir, () => {
        for (const u of uris) debounce(`uri:${u}`, () => check(u))
      })
      dirWatchers.set(dir, { watcher, uris })
    }
  }

  return {
    subscribe: async (uri) => {
      if (closed || subscribed.has(uri)) return
      const entry: Entry = { fingerprint: undefined, holds: undefined, rootSeen: rootGeneration }
      subscribed.set(uri, entry)
      const now = await probe(uri, entry)
      entry.fingerprint = now?.value
      entry.holds = now?.holds
      await attach(uri, entry)
    },
    unsubscribe: (uri) => {
      const entry = subscribed.get(uri)
      if (entry === undefined) return
      subscribed.delete(uri)
      release(uri, entry.dir)
    },
    close: () => {
      closed = true
      clearInterval(recheck)
      for (const t of timers.values()) clearTimeout(t)
      timers.clear()
      rootWatcher?.close()
      for (const w of dirWatchers.values()) w.watcher?.close()
      dirWatchers.clear()
      subscribed.clear()
    },
  }
}
