import { randomBytes } from "node:crypto"
import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { Effect, Exit } from "effect"
import { git as runGit } from "../git/run.js"
import { errnoCode } from "../store/errors.js"
import { RepoCloneFailed } from "./errors.js"

// git's output is kept for the error message, never printed.
const git = (args: ReadonlyArray<string>, cwd = process.cwd()) =>
  runGit(args, { cwd, prompt: true }).pipe(
    Effect.mapError((e) => new RepoCloneFailed({ message: e.message })),
  )

const notEmpty = (dir: string) =>
  new RepoCloneFailed({ message: `--working-dir ${dir} exists and is not empty` })

const isNonEmpty = (dir: string) => {
  try {
    return readdirSync(dir).length > 0
  } catch (e) {
    // A file (or anything else that is no directory) is not a place to clone into either.
    return errnoCode(e) !== "ENOENT"
  }
}

const fsStep = <A>(what: string, f: () => A) =>
  Effect.try({
    try: f,
    catch: (e) => new RepoCloneFailed({ message: `${what}: ${(e as Error).message}` }),
  })

/** Removes the directories `mkdir -p` made (`first` is the topmost), deepest first, while empty. */
const removeEmptyParents = (deepest: string, first: string | undefined) => {
  if (first === undefined) return
  for (let dir = deepest; dir.startsWith(first); dir = dirname(dir)) {
    try {
      rmdirSync(dir)
    } catch {
      return // not empty: someone else put something there meanwhile
    }
    if (dir === first) return
  }
}

/**
 * Clones `url` into `dir` and checks out `ref` when given, fetching it only if the clone does not
 * have it. The clone is made in a fresh sibling directory and renamed into place, so `dir` shows
 * a complete checkout or nothing. `dir` may exist if it is empty; if it is not (also when another
 * start cloned into it meanwhile: the rename then fails) the start is refused. A failure removes
 * only what this call created: its temporary clone and the parent directories it made.
 */
export const cloneRepo = (url: string, dir: string, ref: string | undefined) =>
  Effect.gen(function* () {
    if (isNonEmpty(dir)) return yield* notEmpty(dir)
    const parent = dirname(dir)
    const madeParents = yield* fsStep(`cannot create ${parent}`, () =>
      mkdirSync(parent, { recursive: true }),
    )
    const tmp = join(parent, `.${basename(dir)}.clone-${randomBytes(6).toString("hex")}`)
    const cloneIntoPlace = Effect.gen(function* () {
      // Not recursive: fails rather than reuse a directory that someone else made.
      yield* fsStep(`cannot create ${tmp}`, () => mkdirSync(tmp, { mode: 0o777 }))
      yield* git(["clone", "--quiet", "--", url, tmp])
      if (ref !== undefined) {
        const have = yield* git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], tmp).pipe(
          Effect.as(true),
          Effect.orElseSucceed(() => false),
        )
        if (!have) yield* git(["fetch", "--quiet", "origin", "--", ref], tmp)
        yield* git(["checkout", "--quiet", have ? ref : "FETCH_HEAD", "--"], tmp)
      }
      // rename(2) replaces an empty directory and fails on a non-empty one.
      yield* Effect.try({
        try: () => renameSync(tmp, dir),
        catch: (e) =>
          errnoCode(e) === "ENOTEMPTY" || errnoCode(e) === "EEXIST"
            ? notEmpty(dir)
            : new RepoCloneFailed({
                message: `cannot move the clone to ${dir}: ${(e as Error).message}`,
              }),
      })
    })
    yield* cloneIntoPlace.pipe(
      Effect.onExit((exit) =>
        Exit.isSuccess(exit)
          ? Effect.void
          : Effect.sync(() => {
              rmSync(tmp, { recursive: true, force: true })
              removeEmptyParents(parent, madeParents)
            }),
      ),
    )
  })
