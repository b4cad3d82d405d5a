import { execFileSync } from "node:child_process"
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"

// The stores the Rust codex-tasks wrote (../shared/legacy-stores, copied into fixtures/), what
// our CLI shows of them, and helpers to compare stores (test/cli/legacy.test.ts,
// test/e2e/legacy.test.ts).

export const FIXTURES = new URL("../../fixtures/legacy-stores/", import.meta.url).pathname

export const EXEC = {
  stopped: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d",
  lost: "0199d7c3-0a11-7b22-8c33-4d4e5f607182",
  died: "0199d7c4-1b2c-7d3e-9f40-5162738495a6",
  archived: "0199d7b0-aaaa-7bbb-8ccc-dddddddddddd",
}
export const PROTO = {
  idle: "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
  archived: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
}
export const FLAT = {
  stopped: "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a4b",
  done: "1c2d3e4f-5061-4b72-8c83-9d9e8f7a6b5c",
}

export type Era = "exec-era" | "proto-era" | "flat-era"

/** What `ls -a` shows for each store, newest first: [id, state]. */
export const LISTING: Record<Era, ReadonlyArray<readonly [string, string]>> = {
  "exec-era": [
    [EXEC.died, "DIED"],
    [EXEC.lost, "DIED"],
    [EXEC.stopped, "STOPPED"],
    [EXEC.archived, "ARCHIVED"],
  ],
  "proto-era": [
    [PROTO.archived, "ARCHIVED"],
    [PROTO.idle, "STOPPED"],
  ],
  "flat-era": [
    [FLAT.done, "ARCHIVED"],
    [FLAT.stopped, "STOPPED"],
  ],
}
export const ALL_ERAS: ReadonlyArray<Era> = ["exec-era", "proto-era", "flat-era"]
export const MIXED = ALL_ERAS.flatMap((era) => LISTING[era])
/** The mixed store's listing, newest first (by created_at). */
export const MIXED_ORDER = [
  EXEC.died,
  EXEC.lost,
  EXEC.stopped,
  EXEC.archived,
  PROTO.archived,
  PROTO.idle,
  FLAT.done,
  FLAT.stopped,
]

export const PREDATES = (id: string) =>
  `Task ${id} predates Codex thread ids (created by codex proto) and cannot be resumed; start a new task.`

/** Copies the stores of `eras` (merged) into `root`, private, with the FIFOs the Rust tool left. */
export const seedLegacyStore = (root: string, eras: ReadonlyArray<Era>) => {
  for (const era of eras) cpSync(join(FIXTURES, era), root, { recursive: true })
  execFileSync("chmod", ["-R", "u+w", root])
  // The Rust tool left its roots 0755; the first command tightens that with a notice on stderr
  // (test/e2e/storeRoot.test.ts). These tests start from a root that is already private.
  execFileSync("chmod", ["700", root])
  if (eras.includes("proto-era")) mkfifo(join(root, PROTO.idle, "task.pipe"))
  if (eras.includes("flat-era")) mkfifo(join(root, `${FLAT.stopped}.pipe`))
}

const mkfifo = (path: string) => execFileSync("mkfifo", [path])

/** `ls` table rows as [id, state]; the table is aligned, so the state is found by its column. */
export const tableRows = (stdout: string): ReadonlyArray<readonly [string, string]> => {
  const [header = "", ...lines] = stdout.trimEnd().split("\n")
  const at = header.indexOf("State")
  return lines.map((l) => [l.split(" ")[0] ?? "", l.slice(at).split(" ")[0] ?? ""] as const)
}

/** Every file under `dir` with its content (FIFOs named): a store is untouched if this is equal. */
export const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name)
      if (e.isDirectory()) walk(path)
      else out[path.slice(dir.length)] = e.isFIFO() ? "<fifo>" : readFileSync(path, "utf8")
    }
  }
  walk(dir)
  return out
}

/** The dated archive directory a task was moved to (found by listing, not by today's date). */
export const archivedDir = (storeRoot: string, id: string): string | undefined => {
  const base = join(storeRoot, "archive")
  for (const y of readdirSync(base))
    for (const m of readdirSync(join(base, y)))
      for (const d of readdirSync(join(base, y, m)))
        if (existsSync(join(base, y, m, d, id, "task.json"))) return join(base, y, m, d, id)
  return undefined
}

/**
 * What the Rust tool reads from `task.json` (its serde struct): these fields with these types,
 * `Option`s absent or null, a state of its enum, RFC 3339 times; unknown fields are ignored.
 */
export const RustTaskJson = Schema.Struct({
  id: Schema.String,
  title: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  state: Schema.Literal("RUNNING", "STOPPED", "DIED", "ARCHIVED"),
  created_at: Schema.String.pipe(Schema.filter((s) => !Number.isNaN(Date.parse(s)))),
  updated_at: Schema.String.pipe(Schema.filter((s) => !Number.isNaN(Date.parse(s)))),
  last_result: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  initial_prompt: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  last_prompt: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  config_path: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  working_dir: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
})
export const readAsRust = (path: string) =>
  Schema.decodeUnknownSync(RustTaskJson)(JSON.parse(readFileSync(path, "utf8")))
