import { Command } from "@effect/cli"
import { Effect } from "effect"
import { ExitCode, ExitWith } from "../../domain/exit.js"
import { type Check, runChecks } from "../../tasks/doctor.js"
import { jsonOption } from "../options/shared.js"
import { Printer, printJson, printLine, stdoutStyle } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, globalsWith } from "../runtime.js"

/** Prints `checks` (a mark per check, a fix under a failure, or JSON); exit 1 on a required failure. */
export const reportChecks = (checks: ReadonlyArray<Check>, json: boolean) =>
  Effect.gen(function* () {
    const failed = checks.some((c) => c.required && !c.ok)
    if (json) yield* printJson({ ok: !failed, checks })
    else {
      const style = stdoutStyle()
      for (const c of checks) {
        const mark = c.ok ? style.green("✓") : c.required ? style.red("✗") : style.yellow("✗")
        yield* printLine(`${mark} ${c.name}: ${c.detail}`)
        if (!c.ok && c.fix !== undefined) yield* printLine(`    fix: ${c.fix}`)
      }
    }
    if (failed) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
  })

/** `codex-tasks doctor`: check that everything codex-tasks needs is in place (or the fleet). */
export const doctor = Command.make("doctor", { ...globalOptions, json: jsonOption }, (o) =>
  fleetOr(
    o,
    (fleet) => fleet.fleetDoctor(o.json),
    Effect.gen(function* () {
      const g = yield* globalsWith(o)
      yield* reportChecks(yield* runChecks(g), o.json)
    }).pipe(Effect.provide(Printer.layer)),
  ),
).pipe(
  Command.withDescription(
    "Check codex (found, version, flags), credentials, the store, git and Node.js; with --cluster, the fleet (PostgreSQL, schema version, live runners, clock skew, message backlog).\n\nExample: codex-tasks doctor\nExample: codex-tasks doctor --json",
  ),
)
