// The few parts of `pg` (node-postgres, installed with @effect/sql-pg, shipped without types) the
// tests use to look into the test database directly.
declare module "pg" {
  /** One connection. */
  export class Client {
    constructor(config: { readonly connectionString: string })
    connect(): Promise<void>
    query<R = Record<string, unknown>>(
      text: string,
      values?: ReadonlyArray<unknown>,
    ): Promise<{ readonly rows: Array<R>; readonly rowCount: number | null }>
    end(): Promise<void>
  }
  const pg: { readonly Client: typeof Client }
  export default pg
}
