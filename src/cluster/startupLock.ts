/**
 * Runners start one at a time per fleet database: two runners starting at the same moment on a
 * fresh database made one hang or fail ("Failed to execute statement") while the engine created
 * its tables. A runner holds this session-level advisory lock, on a connection of its own, from
 * before the fleet's tables are made until its engine is built.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

// "ctSL": not the schema lock's key (ensureSchema takes that one inside, on another connection).
const STARTUP_LOCK = 0x6374534c

/** Holds the fleet's start-up lock for the current scope (waits while another runner starts). */
export const holdStartupLock = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const connection = yield* sql.reserve
  yield* connection.execute("SELECT pg_advisory_lock($1)", [STARTUP_LOCK], undefined)
  yield* Effect.addFinalizer(() =>
    connection
      .execute("SELECT pg_advisory_unlock($1)", [STARTUP_LOCK], undefined)
      .pipe(Effect.ignore),
  )
})
