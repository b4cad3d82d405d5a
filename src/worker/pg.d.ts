// The few parts of `pg` (node-postgres, installed with @effect/sql-pg, shipped without types) that
// the worker's fleet run slots (`worker/fleetSlotLocks.ts`) and the tests use directly.
declare module "pg" {
  /** How a connection is made. */
  export interface ClientConfig {
    readonly connectionString: string
    readonly application_name?: string
    readonly connectionTimeoutMillis?: number
    /** TCP keepalives on the client's socket (a vanished server is noticed). */
    readonly keepAlive?: boolean
    readonly keepAliveInitialDelayMillis?: number
  }
  /** One connection. */
  export class Client {
    constructor(config: ClientConfig)
    connect(): Promise<void>
    query<R = Record<string, unknown>>(
      text: string,
      values?: ReadonlyArray<unknown>,
    ): Promise<{ readonly rows: Array<R>; readonly rowCount: number | null }>
    end(): Promise<void>
    on(event: "error", listener: (error: Error) => void): this
  }
  const pg: { readonly Client: typeof Client }
  export default pg
}
