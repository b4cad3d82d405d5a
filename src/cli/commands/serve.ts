import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { UsageError } from "../../domain/exit.js"
import { checkFlags } from "../../serve/flags.js"
import { livePrinter, Printer } from "../Printer.js"
import { signalEndsNormally } from "../process.js"
import { globalOptions } from "../root.js"
import { fleetOr, globalsWith, tasksLayer } from "../runtime.js"

/** The port `serve` listens on by default (fixed, so that a bookmark keeps working). */
export const DEFAULT_PORT = 7711

/** `codex-tasks serve`: a live dashboard of the store in the browser, and its JSON API. */
export const serve = Command.make(
  "serve",
  {
    ...globalOptions,
    port: Options.integer("port").pipe(
      Options.withDescription("The port (0: any free port)."),
      Options.withDefault(DEFAULT_PORT),
    ),
    host: Options.text("host").pipe(
      Options.withDescription(
        "The address to listen on (one other than loopback only with --allow-remote).",
      ),
      Options.withDefault("127.0.0.1"),
    ),
    open: Options.boolean("open").pipe(Options.withDescription("Open the page in the browser.")),
    allowRemote: Options.boolean("allow-remote").pipe(
      Options.withDescription("Allow a --host other machines can reach (a warning is printed)."),
    ),
    allowedHost: Options.text("allowed-host").pipe(
      Options.repeated,
      Options.withDescription(
        "Also answer requests for this host name (name or name:port; repeatable), e.g. behind a proxy; any other Host is refused.",
      ),
    ),
    allowUnsafe: Options.boolean("allow-unsafe").pipe(
      Options.withDescription(
        'Let the page start tasks with every option (sandbox "danger-full-access", config, profile, any directory, ...), as mcp --allow-unsafe.',
      ),
    ),
    allowDir: Options.directory("allow-dir").pipe(
      Options.repeated,
      Options.withDescription(
        "Also let the page start tasks in this directory tree (repeatable; the server's working directory is always allowed).",
      ),
    ),
    rotateToken: Options.boolean("rotate-token").pipe(
      Options.withDescription(
        "Replace the token (the old URL and every logged-in page stop working).",
      ),
    ),
  },
  (o) =>
    Effect.gen(function* () {
      const g = yield* globalsWith(o)
      if (g.maxRunningProblem !== undefined) {
        return yield* new UsageError({ message: g.maxRunningProblem })
      }
      // The context's Printer (in-process runs), else stdout and stderr.
      const printer = Option.getOrElse(yield* Effect.serviceOption(Printer), () => livePrinter)
      const request = {
        storeRoot: g.storeRoot,
        host: o.host,
        port: o.port,
        open: o.open,
        allowRemote: o.allowRemote,
        allowedHosts: o.allowedHost,
        allowUnsafe: o.allowUnsafe,
        allowDirs: o.allowDir,
        rotateToken: o.rotateToken,
        maxRunning: g.maxRunning,
        printUrl: printer.line,
        note: printer.note,
      }
      yield* signalEndsNormally
      if (g.cluster !== undefined) {
        const url = g.cluster
        // Bad flags are refused before anything connects.
        yield* checkFlags(request)
        // The engine is built on the first message to a host: the board only reads Postgres.
        return yield* fleetOr(
          o,
          (fleet) => fleet.fleetServe({ ...request, url }),
          Effect.void,
          "on-use",
        )
      }
      // Loaded on demand: the other commands do not pay for the server.
      const { runServe } = yield* Effect.promise(() => import("../../serve/main.js"))
      yield* runServe(request, tasksLayer(g))
    }),
).pipe(
  Command.withDescription(
    "Serve a live dashboard of the tasks (and a JSON API) on http://127.0.0.1:7711; the first line printed is the URL to open, with the access token.\n\nOnly requests for this address (or an --allowed-host) with the token are answered; the page starts and feeds tasks under the same rules as mcp (see --allow-unsafe, --allow-dir).\n\nWith --cluster URL (or CODEX_TASKS_CLUSTER): every host's tasks, with their host; as mcp --cluster, paths on the hosts are refused and prompts and diffs go only to tasks started here, unless --allow-unsafe (apply stays with the CLI).\n\nExample: codex-tasks serve --open\nExample: codex-tasks serve --port 0 --allow-dir ~/src",
  ),
)
