// The codex-tasks serve page: the board and a task view, fed by one WebSocket (/live) and the
// JSON API. No framework: the DOM is built with textContent, and the board's rows as HTML in
// which every text from a task is escaped (nothing from a task is ever markup).

const $ = (id) => document.getElementById(id)
const rows = new Map()
// Each row as received (JSON text): what tells a changed row from an unchanged one.
const rowText = new Map()
let boardSeq
let epoch
let maxRunning = null
// `serve --cluster`: rows carry their host (a Host column; apply is the CLI's, not the page's).
let fleet = false
let socket
let retryMs = 250
let openTask
const logSeq = new Map()
let renderQueued = false
const MAX_TRANSCRIPT_CHARS = 2_000_000

// --- login: the token travels once, in the fragment, and becomes an HttpOnly cookie ---------

const login = async () => {
  const m = /^#token=([A-Za-z0-9_-]+)/.exec(location.hash)
  if (m === null) return
  history.replaceState(null, "", location.pathname)
  const r = await fetch("/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: m[1] }),
  })
  if (!r.ok) $("login").hidden = false
}

const api = async (method, path, body) => {
  const r = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (r.status === 401) $("login").hidden = false
  const json = await r.json().catch(() => ({}))
  if (!r.ok) throw new Error(json.error ?? `${r.status} ${r.statusText}`)
  return json
}

// --- what a row shows -----------------------------------------------------------------------

const stateText = (t) =>
  t.host_lost_since === undefined
    ? taskStateText(t)
    : `${taskStateText(t)} (host unreachable since ${clock(t.host_lost_since)})`

/** What codex asks for, in one line: the command, files, permissions or questions, and why. */
const describeRequest = (r = {}) => {
  const what =
    r.command ??
    r.files?.join(", ") ??
    (r.permissions?.length > 0 ? r.permissions.join(", ") : undefined) ??
    (r.questions?.length > 0 ? r.questions.map((q) => q.question).join("; ") : undefined) ??
    r.kind ??
    ""
  return r.reason ? `${what} (${r.reason})` : what
}
const ANSWERABLE = ["approval", "permission", "input"]
const waitsForAnswer = (t) => t.state === "RUNNING" && ANSWERABLE.includes(t.waiting?.for)

const taskStateText = (t) => {
  if (waitsForAnswer(t))
    return `waiting for ${t.waiting.for}: ${describeRequest(t.waiting.request)}`
  if (t.state === "RUNNING" && t.waiting?.for === "slot") return "waiting for a slot"
  if (t.state === "RUNNING" && t.waiting?.for === "usage_limit") {
    const until = t.waiting.until === undefined ? "" : ` until ${clock(t.waiting.until)}`
    return `usage limit${until}`
  }
  if (t.state === "RUNNING") return "running"
  const outcome = t.outcome?.kind
  const state = t.state.toLowerCase()
  return outcome !== undefined && t.state === "STOPPED" && outcome !== "stopped"
    ? `${state} (${outcome})`
    : state
}
const stateClass = (t) =>
  t.waiting !== null && t.state === "RUNNING"
    ? "state-waiting"
    : t.state === "DIED" || t.outcome?.kind === "failed"
      ? "state-failed"
      : `state-${t.state.toLowerCase()}`

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })

const age = (iso) => {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000)
  if (s < 60) return `${Math.floor(s)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

// One formatter: `toLocaleString` per number builds a new one each call (slow on 1,000 rows).
const numbers = new Intl.NumberFormat()
const tokens = (u) =>
  u === null ? "" : numbers.format(u.input_tokens + u.output_tokens + u.reasoning_output_tokens)

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }
/** Text as HTML that shows exactly that text (element content and quoted attributes). */
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c])
const cell = (text, className) =>
  `<td${className === undefined ? "" : ` class="${className}"`}>${escapeHtml(text)}</td>`

const matches = (t, state, q) => {
  if (state !== "" && !stateText(t).startsWith(state)) return false
  if (q === "") return true
  return [t.id, t.title, t.last_prompt, t.initial_prompt, t.branch, t.host]
    .filter((s) => typeof s === "string")
    .some((s) => s.toLowerCase().includes(q))
}

// The shortest prefix (8 characters at least) that names one task: ids of tasks started within
// a minute share their first 8 (time-ordered UUIDs).
const shortIds = (ids) => {
  const sorted = [...ids].sort()
  const common = (a = "", b = "") => {
    let n = 0
    while (n < a.length && a[n] === b[n]) n++
    return n
  }
  const short = new Map()
  sorted.forEach((id, i) => {
    const n = Math.max(common(id, sorted[i - 1]), common(id, sorted[i + 1])) + 1
    short.set(id, id.slice(0, Math.max(8, n)))
  })
  return short
}

/** One row of the board as HTML (every text escaped). */
const rowHtml = (t, shortId, ageText) => {
  const title = t.title ?? (t.initial_prompt ?? "").slice(0, 80)
  const used = t.tokens_used === null ? "" : numbers.format(t.tokens_used)
  const budget = t.token_budget === null ? "" : ` / ${numbers.format(t.token_budget)}`
  return (
    `<tr data-id="${escapeHtml(t.id)}">` +
    cell(stateText(t), `state ${stateClass(t)}`) +
    `<td><a href="#task/${escapeHtml(t.id)}">${escapeHtml(title)}</a></td>` +
    cell(shortId) +
    cell(ageText) +
    cell(t.activity ?? (t.last_result ?? "").split("\n")[0], "activity") +
    cell(t.queued_prompts === 0 ? "" : String(t.queued_prompts), "num") +
    cell(`${used}${budget}`, "num") +
    cell(t.branch ?? "") +
    cell(t.changed_files === null ? "" : String(t.changed_files), "num") +
    (fleet ? cell(t.host ?? "") : "") +
    "</tr>"
  )
}

/** The rows of `html` (one parse for all of them, not ten elements built per row). */
const rowElements = (html) => {
  const template = document.createElement("template")
  template.innerHTML = `<table><tbody>${html}</tbody></table>`
  return template.content.querySelectorAll("tr")
}

// Rows already drawn, by id, with what they were drawn from: a delta redraws only its rows.
const drawn = new Map()
// The first screenful is drawn at once, the rows below it a chunk per frame after it: a board of
// 1,000 tasks is usable (seen, filtered, clicked) before its last row is laid out.
const FIRST_ROWS = 80
const CHUNK_ROWS = 500
let drawing = 0

/** The rows of `items` ({t, shortId, ageText}), kept ones reused, new ones parsed at once. */
const rowsOf = (items) => {
  const fresh = []
  const trs = items.map((item, i) => {
    const from = rowText.get(item.t.id)
    const kept = drawn.get(item.t.id)
    if (kept?.from === from && kept.shortId === item.shortId && kept.ageText === item.ageText) {
      return kept.tr
    }
    fresh.push(i)
    return undefined
  })
  const made = rowElements(
    fresh.map((i) => rowHtml(items[i].t, items[i].shortId, items[i].ageText)).join(""),
  )
  fresh.forEach((at, n) => {
    const { t, shortId, ageText } = items[at]
    trs[at] = made[n]
    drawn.set(t.id, { from: rowText.get(t.id), shortId, ageText, tr: made[n] })
  })
  return trs
}

const drawRest = (items, generation) => {
  if (items.length === 0 || generation !== drawing) return
  requestAnimationFrame(() => {
    if (generation !== drawing) return
    $("rows").append(...rowsOf(items.slice(0, CHUNK_ROWS)))
    drawRest(items.slice(CHUNK_ROWS), generation)
  })
}

const renderBoard = () => {
  renderQueued = false
  // Newest first, by instant (stores mix offsets and precisions), each parsed once.
  const created = new Map([...rows.values()].map((t) => [t, Date.parse(t.created_at)]))
  const all = [...rows.values()].sort((a, b) => created.get(b) - created.get(a))
  const short = shortIds(rows.keys())
  const state = $("state-filter").value
  const query = $("text-filter").value.trim().toLowerCase()
  const shown = all
    .filter((t) => matches(t, state, query))
    .map((t) => ({ t, shortId: short.get(t.id) ?? t.id, ageText: age(t.created_at) }))
  for (const id of drawn.keys()) if (!rows.has(id)) drawn.delete(id)
  drawing++
  $("rows").replaceChildren(...rowsOf(shown.slice(0, FIRST_ROWS)))
  drawRest(shown.slice(FIRST_ROWS), drawing)
  $("count").textContent = `${shown.length} of ${all.length} tasks`
  renderHeader(all)
}

const scheduleBoard = () => {
  if (renderQueued) return
  renderQueued = true
  requestAnimationFrame(renderBoard)
}

const renderHeader = (all) => {
  const running = all.filter((t) => t.state === "RUNNING" && t.waiting === null).length
  const waiting = all.filter((t) => t.state === "RUNNING" && t.waiting?.for === "slot").length
  $("slots").textContent =
    `runs in use ${running}${maxRunning === null ? "" : ` / ${maxRunning}`}` +
    (waiting > 0 ? `, ${waiting} waiting for a slot` : "")
  const resets = all
    .filter((t) => t.state === "RUNNING" && t.waiting?.for === "usage_limit" && t.waiting.until)
    .map((t) => Date.parse(t.waiting.until))
  const box = $("usage-limit")
  box.hidden = resets.length === 0
  if (resets.length > 0) {
    const left = Math.max(0, Math.round((Math.min(...resets) - Date.now()) / 1000))
    const mm = String(Math.floor(left / 60)).padStart(2, "0")
    const ss = String(left % 60).padStart(2, "0")
    box.textContent = `usage limit: resets in ${mm}:${ss}`
  }
}

// --- notifications: only when a task leaves running, or starts waiting on a usage limit ------

const notify = async (before, after) => {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return
  const name = after.title ?? after.id.slice(0, 8)
  if (before.state === "RUNNING" && after.state !== "RUNNING") {
    const full = await api("GET", `/api/tasks/${after.id}`).catch(() => after)
    const first = (full.last_result ?? "").split("\n")[0]
    new Notification(`${name}: ${stateText(after)}`, { body: first, tag: after.id })
  } else if (after.waiting?.for === "usage_limit" && before.waiting?.for !== "usage_limit") {
    new Notification(`${name}: waiting for a usage-limit reset`, { body: stateText(after) })
  } else if (waitsForAnswer(after) && !waitsForAnswer(before)) {
    new Notification(`${name}: waiting for ${after.waiting.for}`, {
      body: describeRequest(after.waiting.request),
      tag: after.id,
    })
  }
}

// --- the live channel --------------------------------------------------------------------------

const send = (message) => {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message))
}

const subscribeTask = (id) => send({ op: "subscribe", topic: `log:${id}`, after: logSeq.get(id) })

const onBoard = (seq, data) => {
  if (boardSeq !== undefined && data.snapshot === undefined && seq !== boardSeq + 1) {
    // A gap can only mean a lost message: start again from a snapshot.
    boardSeq = undefined
    send({ op: "subscribe", topic: "board", epoch })
    return
  }
  boardSeq = seq
  if (data.snapshot !== undefined) {
    rows.clear()
    rowText.clear()
    for (const t of data.snapshot) {
      rows.set(t.id, t)
      rowText.set(t.id, JSON.stringify(t))
    }
  } else {
    for (const t of data.upsert) {
      const before = rows.get(t.id)
      rows.set(t.id, t)
      rowText.set(t.id, JSON.stringify(t))
      if (before !== undefined) void notify(before, t)
      if (t.id === openTask) void refreshTask()
    }
    for (const id of data.remove) {
      rows.delete(id)
      rowText.delete(id)
    }
  }
  scheduleBoard()
}

const onLog = (id, seq, data) => {
  if (id !== openTask) return
  const pre = $("transcript-text")
  if (data.error !== undefined) {
    pre.textContent = data.error
    return
  }
  if (data.from !== logSeq.get(id)) pre.textContent = ""
  logSeq.set(id, seq)
  if (data.text === "") return
  const box = $("transcript")
  const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 4
  pre.append(data.text)
  if (pre.textContent.length > MAX_TRANSCRIPT_CHARS) {
    pre.textContent = pre.textContent.slice(-MAX_TRANSCRIPT_CHARS / 2)
  }
  if (atEnd) box.scrollTop = box.scrollHeight
}

const connect = () => {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/live`)
  socket.onopen = () => {
    retryMs = 250
    $("connection").dataset.opened = "yes"
    $("connection").textContent = "live"
  }
  socket.onmessage = (event) => {
    const m = JSON.parse(event.data)
    if (m.topic === "hello") {
      if (epoch !== m.data.epoch) boardSeq = undefined
      epoch = m.data.epoch
      maxRunning = m.data.max_running
      fleet = m.data.fleet === true
      $("host-col").hidden = !fleet
      $("apply").hidden = fleet
      send({ op: "subscribe", topic: "board", after: boardSeq, epoch })
      if (openTask !== undefined) subscribeTask(openTask)
    } else if (m.topic === "board") onBoard(m.seq, m.data)
    else if (m.topic.startsWith("log:")) onLog(m.topic.slice(4), m.seq, m.data)
  }
  socket.onclose = (event) => {
    $("connection").textContent = "reconnecting…"
    // Refused before it opened: tell a page without the session why nothing shows.
    if (event.code === 1006 && $("connection").dataset.opened !== "yes") {
      void fetch("/api/tasks", { method: "HEAD" }).then((r) => {
        if (r.status === 401) $("login").hidden = false
      })
    }
    setTimeout(connect, retryMs)
    retryMs = Math.min(retryMs * 2, 5_000)
  }
}

// --- the task view -----------------------------------------------------------------------------

const say = (text) => {
  $("message").textContent = text
}

const refreshTask = async () => {
  const id = openTask
  if (id === undefined) return
  const t = await api("GET", `/api/tasks/${id}`).catch((e) => say(e.message))
  if (t === undefined || id !== openTask) return
  $("task-title").textContent = t.title ?? t.id
  $("task-meta").textContent = [
    stateText(t),
    t.id,
    t.host === undefined ? "" : `on ${t.host}`,
    t.working_dir ?? "",
    `${t.turns} turn(s)`,
    t.usage === null ? "" : `${tokens(t.usage)} tokens`,
    t.queued_prompts > 0 ? `${t.queued_prompts} queued` : "",
  ]
    .filter((s) => s !== "")
    .join(" · ")
  showRequest(t)
  $("answer-box").hidden = t.last_result === null
  $("answer").textContent = t.last_result ?? ""
  $("diff-box").hidden = !t.worktree
  if (t.worktree) void refreshDiff(id)
}

/** The request the open task waits for, with its answers (a field or a choice per question). */
const showRequest = (t) => {
  const asking = waitsForAnswer(t)
  $("request-box").hidden = !asking
  if (!asking) return
  const r = t.waiting.request ?? {}
  const input = t.waiting.for === "input"
  $("request-title").textContent = `Waiting for ${t.waiting.for}`
  $("request-text").textContent = [
    describeRequest(r),
    r.cwd === undefined ? "" : `in ${r.cwd}`,
    t.waiting.since === undefined ? "" : `since ${clock(t.waiting.since)}`,
  ]
    .filter((s) => s !== "")
    .join("\n")
  $("approve").textContent = input ? "Answer" : "Approve"
  $("approve-session").hidden = input
  const questions = input ? (r.questions ?? []) : []
  const key = JSON.stringify(questions)
  const box = $("request-questions")
  if (box.dataset.key === key) return // keep what is being typed
  box.dataset.key = key
  box.replaceChildren(
    ...questions.map((q, i) => {
      const label = document.createElement("label")
      label.textContent = q.question
      const field =
        q.options?.length > 0 ? document.createElement("select") : document.createElement("input")
      for (const option of q.options ?? []) field.append(new Option(option, option))
      field.className = "request-answer"
      field.id = `request-answer-${i}`
      label.append(field)
      return label
    }),
  )
}
const givenAnswers = () => {
  const fields = [...document.querySelectorAll(".request-answer")]
  return fields.length === 0 ? {} : { answers: fields.map((f) => f.value) }
}

const refreshDiff = async (id) => {
  const d = await api("GET", `/api/tasks/${id}/diff`).catch((e) => say(e.message))
  if (d === undefined || id !== openTask) return
  $("diff-branch").textContent = d.worktree === null ? "" : `(${d.worktree.branch})`
  const list = document.createDocumentFragment()
  for (const f of d.files) {
    const li = document.createElement("li")
    const added = document.createElement("span")
    added.className = "added"
    added.textContent = f.added === null ? "binary" : `+${f.added}`
    const deleted = document.createElement("span")
    deleted.className = "deleted"
    deleted.textContent = f.deleted === null ? "" : ` -${f.deleted}`
    li.append(`${f.path} `, added, deleted)
    list.append(li)
  }
  $("diff-files").replaceChildren(list)
  $("diff-patch").textContent = d.patch ?? ""
}

const show = () => {
  const m = /^#task\/([0-9a-zA-Z-]+)$/.exec(location.hash)
  const id = m?.[1]
  if (openTask !== undefined && openTask !== id) {
    send({ op: "unsubscribe", topic: `log:${openTask}` })
    logSeq.delete(openTask)
  }
  $("board-view").hidden = id !== undefined
  $("task-view").hidden = id === undefined
  if (id === undefined || id === openTask) {
    openTask = id
    return
  }
  openTask = id
  $("transcript-text").textContent = ""
  $("message").textContent = ""
  $("download").href = `/api/tasks/${id}/log`
  $("download").setAttribute("download", `${id}.jsonl`)
  subscribeTask(id)
  void refreshTask()
}

const act = (what, path, body) => async () => {
  try {
    const r = await api("POST", path(), body?.())
    say(what(r))
  } catch (e) {
    say(e.message)
  }
}

const wire = () => {
  $("state-filter").addEventListener("change", scheduleBoard)
  $("text-filter").addEventListener("input", scheduleBoard)
  $("notify").addEventListener("click", () => void Notification.requestPermission())
  $("stop").addEventListener(
    "click",
    act(
      (r) => `Task ${r.id} ${r.status}.`,
      () => `/api/tasks/${openTask}/stop`,
    ),
  )
  $("archive").addEventListener(
    "click",
    act(
      (r) => r.message,
      () => `/api/tasks/${openTask}/archive`,
    ),
  )
  $("apply").addEventListener(
    "click",
    act(
      (r) =>
        r.files.length === 0
          ? `Task ${r.id} changed nothing to apply.`
          : `Applied ${r.files.length} file(s) of task ${r.id} to ${r.dir}: ${r.files.join(", ")}`,
      () => `/api/tasks/${openTask}/apply`,
      () => ({}),
    ),
  )
  $("approve").addEventListener(
    "click",
    act(
      (r) => `Task ${r.id}: ${$("approve").textContent === "Answer" ? "answered" : "approved"}.`,
      () => `/api/tasks/${openTask}/approve`,
      givenAnswers,
    ),
  )
  $("approve-session").addEventListener(
    "click",
    act(
      (r) => `Task ${r.id}: approved for the session.`,
      () => `/api/tasks/${openTask}/approve`,
      () => ({ forSession: true }),
    ),
  )
  $("decline").addEventListener(
    "click",
    act(
      (r) => {
        $("decline-message").value = ""
        return `Task ${r.id}: declined.`
      },
      () => `/api/tasks/${openTask}/decline`,
      () => ({ message: $("decline-message").value }),
    ),
  )
  $("send-form").addEventListener("submit", (event) => {
    event.preventDefault()
    const prompt = $("prompt").value
    void act(
      (r) => {
        $("prompt").value = ""
        return r.status === "started"
          ? `Task ${r.id}: prompt started a new turn.`
          : `Task ${r.id}: prompt queued at position ${r.position}.`
      },
      () => `/api/tasks/${openTask}/prompts`,
      () => ({ prompt }),
    )()
  })
  for (const link of [$("home"), $("back")]) {
    link.addEventListener("click", (event) => {
      event.preventDefault()
      history.pushState(null, "", location.pathname)
      show()
    })
  }
  window.addEventListener("hashchange", show)
  setInterval(() => {
    if (!$("usage-limit").hidden) renderHeader([...rows.values()])
  }, 1_000)
  // Ages move on without any delta.
  setInterval(scheduleBoard, 30_000)
}

await login()
wire()
show()
connect()
