import { Context } from "effect"

/** The absolute path of the task store root, provided to the TaskStore. */
export class StoreRoot extends Context.Tag("codex-tasks/StoreRoot")<StoreRoot, string>() {}
