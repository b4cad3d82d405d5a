import { Command } from "@effect/cli"
import { Effect } from "effect"
import { ExitCode, ExitWith } from "../../domain/exit.js"
import { runChecks } from "../../tasks/doctor.js"
import { jsonOption } from "../options/shared.js"
import { Printer, printJson, printLine, stdoutStyle } from "../Printer.js"
import { globalOptions } from "../root.js"
import { globalsWith } from "../runtime.js"

/** `codex-tasks doctor`: check that everything codex-tasks needs is in place. */
export const doctor = Command.make("doctor", { ...globalOptions, json: jsonOption }, (o) =>
  Effect.gen(function* () {
    const g = yield* globalsWith(o)
    const checks = yield* runChecks(g)
    const failed = checks.some((c) => c.required && !c.ok)
    if (o.json) yield* printJson({ ok: !failed, checks })
    else {
      const style = stdoutStyle()
      for (const c of checks) {
        const mark = c.ok ? style.green("✓") : c.required ? style.red("✗") : style.yellow("✗")
        yield* printLine(`${mark} ${c.name}: ${c.detail}`)
        if (!c.ok && c.fix !== undefined) yield* printLine(`    fix: ${c.fix}`)
      }
    }
    if (failed) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
  }).pipe(Effect.provide(Printer.layer)),
).pipe(
  Command.withDescription(
    "Check codex (found, version, flags), credentials, the store, git and Node.js.\n\nExample: codex-tasks doctor\nExample: codex-tasks doctor --json",
  ),
)
