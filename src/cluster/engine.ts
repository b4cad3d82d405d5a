/**
 * The `@effect/cluster` engine as the fleet runs it: sharding on Postgres storage (messages in
 * `cluster_messages`, runners and shard locks in `cluster_runners` / `cluster_locks`), runners
 * talking msgpack over TCP. A runner hosts one shard group, its host id; clients (every other
 * command) join in client-only mode. The configuration is spelt out here rather than read from
 * the environment, so a stray `HOST` or `PORT` variable cannot change it.
 */
import {
  MessageStorage,
  RunnerAddress,
  RunnerHealth,
  RunnerStorage,
  Runners,
  ShardingConfig,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage,
} from "@effect/cluster"
import { layerClientProtocol, layerSocketServer } from "@effect/platform-node/NodeClusterSocket"
import { RpcSerialization } from "@effect/rpc"
import type { SqlClient } from "@effect/sql/SqlClient"
import { PgClient } from "@effect/sql-pg"
import { Context, Deferred, Duration, Effect, Layer, Option, Redacted } from "effect"

/** Settings every process of a fleet must share (shard numbering) or that bound a takeover. */
export const FLEET_SHARDING = {
  // Tasks are few per host, and one runner holds its host's group: a handful of shards is plenty.
  shardsPerGroup: 8,
  // Shard groups are host ids, unknown in advance: lock shards by rows, not by advisory-lock
  // numbers (those are derived from the list of all groups, which no runner knows).
  shardLockDisableAdvisory: true,
  // A restarted runner takes its host's shards back within ~10 s of the old one's last refresh.
  shardLockExpiration: Duration.seconds(10),
  shardLockRefreshInterval: Duration.seconds(3),
  refreshAssignmentsInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.seconds(1),
  entityReplyPollInterval: Duration.millis(100),
  entityMaxIdleTime: Duration.minutes(5),
  entityTerminationTimeout: Duration.seconds(5),
  runnerHealthCheckInterval: Duration.seconds(10),
} satisfies Partial<ShardingConfig.ShardingConfig["Type"]>

/** The Postgres client of `url` (kept redacted: it never appears in a message or a log). */
export const pgLayer = (url: string) =>
  PgClient.layer({
    url: Redacted.make(url),
    applicationName: "codex-tasks",
    maxConnections: 8,
    connectTimeout: Duration.seconds(10),
  })

const storage = Layer.mergeAll(
  Layer.orDie(SqlMessageStorage.layer),
  Layer.orDie(SqlRunnerStorage.layer),
)

/** A runner of `host` reachable at `address` (sharding, storage, its socket server). */
export const runnerLayer = (host: string, address: { host: string; port: number }) => {
  const config = ShardingConfig.layer({
    ...FLEET_SHARDING,
    runnerAddress: Option.some(RunnerAddress.make(address.host, address.port)),
    availableShardGroups: [host],
    assignedShardGroups: [host],
  })
  const health = RunnerHealth.layerPing.pipe(
    Layer.provide(Runners.layerRpc),
    Layer.provide(layerClientProtocol),
  )
  return SocketRunner.layer.pipe(
    Layer.provide(Layer.mergeAll(layerSocketServer, layerClientProtocol, health)),
    Layer.provideMerge(storage),
    Layer.provide(config),
    Layer.provide(RpcSerialization.layerMsgPack),
  )
}

/**
 * The message storage of a client, made on first use: only persisted messages (`send`) touch it,
 * so the other commands skip its table migrations (a transaction holding a table lock).
 */
const lazyMessageStorage = Layer.scoped(
  MessageStorage.MessageStorage,
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<ShardingConfig.ShardingConfig | SqlClient>()
    const real = yield* Effect.cached(
      Effect.map(
        Layer.buildWithScope(Layer.orDie(SqlMessageStorage.layer), scope).pipe(
          Effect.provide(context),
        ),
        Context.get(MessageStorage.MessageStorage),
      ),
    )
    // Every method of the storage returns an Effect: each one waits for the real storage first.
    return new Proxy({} as MessageStorage.MessageStorage["Type"], {
      get: (_, method) =>
        typeof method !== "string"
          ? undefined
          : (...args: ReadonlyArray<unknown>) =>
              Effect.flatMap(real, (storage) =>
                (
                  storage[method as keyof typeof storage] as (
                    ...a: ReadonlyArray<unknown>
                  ) => Effect.Effect<unknown>
                )(...args),
              ),
    })
  }),
)

/**
 * Done once a client's sharding has read the runners, and so knows which runner holds each
 * shard: a message sent before that waits for a retry (100 ms) or, persisted, for the runner's
 * poll of the message table (1 s).
 */
export class RunnersKnown extends Context.Tag("codex-tasks/RunnersKnown")<
  RunnersKnown,
  Effect.Effect<void>
>() {}

const watchedRunnerStorage = Layer.scopedContext(
  Effect.gen(function* () {
    const real = yield* RunnerStorage.RunnerStorage
    const read = yield* Deferred.make<void>()
    const storage: RunnerStorage.RunnerStorage["Type"] = {
      ...real,
      getRunners: Effect.tap(real.getRunners, () => Deferred.succeed(read, undefined)),
    }
    // The sharding computes the assignments right after the read returns: a moment later, they are in.
    const known = Effect.zipRight(Deferred.await(read), Effect.sleep(Duration.millis(5)))
    return Context.make(RunnerStorage.RunnerStorage, storage).pipe(Context.add(RunnersKnown, known))
  }),
).pipe(Layer.provide(Layer.orDie(SqlRunnerStorage.layer)))

/** A client of the fleet: sends to runners, hosts no entity. */
export const clientLayer = SocketRunner.layerClientOnly.pipe(
  Layer.provide(layerClientProtocol),
  Layer.provideMerge(Layer.mergeAll(lazyMessageStorage, watchedRunnerStorage)),
  Layer.provide(ShardingConfig.layer({ ...FLEET_SHARDING, runnerAddress: Option.none() })),
  Layer.provide(RpcSerialization.layerMsgPack),
)
