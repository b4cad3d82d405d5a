import { chmodSync, lstatSync, type Stats, statSync } from "node:fs"
import { Data, Effect, Either, Layer } from "effect"
import { errnoCode } from "./errors.js"
import { StoreRoot } from "./storeRoot.js"

/** The store root is not safe to use: another user owns it or may write to it, or it is no directory. */
export class UnsafeStoreRoot extends Data.TaggedError("UnsafeStoreRoot")<{
  readonly path: string
  /** What is wrong with it ("is owned by uid 1001, not by you (uid 1000)"). */
  readonly reason: string
  /** How to fix it. */
  readonly fix: string
}> {
  override get message(): string {
    return `The store root ${this.path} ${this.reason}; ${this.fix}.`
  }
}

/** What the check found (and did): no root yet, a private root, or a root it made private. */
export type RootCheck =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Private"; readonly mode: number }
  | { readonly _tag: "Tightened"; readonly from: number }

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(3, "0")

const RISK = "another user could replace its tasks (and the options the next send replays)"

const unsafe = (path: string, reason: string, fix: string) =>
  Either.left(new UnsafeStoreRoot({ path, reason, fix }))

const writableBy = (mode: number) =>
  (mode & 0o020) !== 0 && (mode & 0o002) !== 0
    ? "the group and others"
    : (mode & 0o020) !== 0
      ? "the group"
      : "others"

const statOf = (f: () => Stats): Stats | NodeJS.ErrnoException => {
  try {
    return f()
  } catch (e) {
    return e as NodeJS.ErrnoException
  }
}

/**
 * Checks the store root as ssh checks `~/.ssh`, at the cost of one `lstat`: it must be a directory
 * owned by the caller (`uid`) that no one else can write; a root that others can only read or
 * enter is tightened to 0700. A symlinked root is followed: the link must be ours and the
 * directory it points at passes the same checks. A root that does not exist yet is fine (the
 * store creates it 0700).
 */
export const checkStoreRoot = (
  path: string,
  uid: number | undefined = process.geteuid?.(),
): Either.Either<RootCheck, UnsafeStoreRoot> => {
  const other = "choose another with --store-root or CODEX_TASKS_HOME"
  const own = `check what is in it and chown it to you, or ${other}`
  let st = statOf(() => lstatSync(path))
  if (st instanceof Error) {
    const code = errnoCode(st)
    if (code === "ENOENT" || code === "ENOTDIR") return Either.right({ _tag: "Missing" })
    return unsafe(path, `cannot be checked (${code ?? st.message})`, other)
  }
  if (st.isSymbolicLink()) {
    if (uid !== undefined && st.uid !== uid) {
      return unsafe(
        path,
        `is a symlink owned by uid ${st.uid}, not by you (uid ${uid}): ${RISK}`,
        own,
      )
    }
    st = statOf(() => statSync(path))
    if (st instanceof Error) {
      return unsafe(path, `is a symlink to nothing usable (${errnoCode(st) ?? st.message})`, other)
    }
  }
  if (!st.isDirectory()) return unsafe(path, "is not a directory", other)
  if (uid !== undefined && st.uid !== uid) {
    return unsafe(path, `is owned by uid ${st.uid}, not by you (uid ${uid}): ${RISK}`, own)
  }
  const mode = st.mode & 0o777
  if ((mode & 0o022) !== 0) {
    return unsafe(
      path,
      `is writable by ${writableBy(mode)} (mode ${octal(mode)}): ${RISK}`,
      `check what is in it, then chmod 700 ${path}`,
    )
  }
  if ((mode & 0o077) === 0) return Either.right({ _tag: "Private", mode })
  try {
    chmodSync(path, 0o700)
  } catch (e) {
    return unsafe(path, `is readable by others and cannot be made private (${errnoCode(e)})`, own)
  }
  return Either.right({ _tag: "Tightened", from: mode })
}

/** The one-line notice of a tightened root. */
export const tightenedNotice = (path: string, from: number): string =>
  `tightened the store root ${path} from mode ${octal(from)} to 700 (only you should read your tasks)`

/** Options of `guardStoreRoot`. */
export interface GuardOptions {
  /** Told of a tightened root (the CLI prints it on stderr; the worker passes nothing). */
  readonly notify?: ((line: string) => void) | undefined
}

/** `checkStoreRoot` as an effect that fails on an unsafe root and reports a tightened one. */
export const guardStoreRoot = (
  path: string,
  options: GuardOptions = {},
): Effect.Effect<RootCheck, UnsafeStoreRoot> =>
  Effect.suspend(() => checkStoreRoot(path)).pipe(
    Effect.tap((check) =>
      check._tag === "Tightened" && options.notify !== undefined
        ? Effect.sync(() => options.notify?.(tightenedNotice(path, check.from)))
        : Effect.void,
    ),
  )

/** The `StoreRoot` for `path`, provided only once the root passed `guardStoreRoot`. */
export const guardedStoreRoot = (
  path: string,
  options: GuardOptions = {},
): Layer.Layer<StoreRoot, UnsafeStoreRoot> =>
  Layer.effect(StoreRoot, Effect.as(guardStoreRoot(path, options), path))
