/**
 * The PostgreSQL adapter: an event target over `LISTEN`/`NOTIFY` through
 * [`pg`](https://node-postgres.com) clients the user provides, so that
 * `createPubSub` instances in different processes share events through the
 * database they already run, and can publish inside their own transactions.
 * The clients are typed structurally: importing `@alkdev/pubsub/postgres`
 * needs no PostgreSQL package.
 *
 * Wire format, channel mapping, limits, delivery guarantees and failure
 * behaviour are described in `docs/architecture/postgres.md`. In short: each
 * event is its whole envelope encoded by the codec (JSON by default) as the
 * payload of a notification on the channel `channelFor(prefix, topic)`;
 * payloads must be under 8000 bytes; delivery is at most once; a
 * notification inside a transaction is delivered when it commits.
 *
 * @example
 * ```ts ignore
 * import pg from "pg";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createPostgresEventTarget } from "@alkdev/pubsub/postgres";
 *
 * const url = "postgres://postgres@127.0.0.1:5432/test";
 * const pool = new pg.Pool({ connectionString: url });
 * const connect = async () => {
 *   const client = new pg.Client({ connectionString: url, keepAlive: true });
 *   await client.connect();
 *   return client;
 * };
 * const eventTarget = createPostgresEventTarget({ client: pool, connect });
 * const pubsub = createPubSub<{ "job.progress": number }>({ eventTarget });
 *
 * const progress = pubsub.subscribe("job.progress", "42");
 * await pubsub.ready("job.progress", "42");
 *
 * // Publish in the same transaction as the data: delivered on COMMIT, never on ROLLBACK.
 * const tx = await pool.connect();
 * await tx.query("BEGIN");
 * await tx.query("UPDATE jobs SET progress = 50 WHERE id = '42'");
 * await eventTarget.publishIn(tx, "job.progress", "42", 50);
 * await tx.query("COMMIT");
 * tx.release();
 * console.log((await progress.next()).value); // 50
 *
 * pubsub.close();
 * await eventTarget.close();
 * await pool.end();
 * ```
 *
 * @module
 */

export {
  createPostgresEventTarget,
  type PostgresConnectionState,
  type PostgresErrorContext,
  type PostgresEventTarget,
  type PostgresEventTargetOptions,
  type PostgresStateChange,
} from "./postgres_event_target.ts";
export { channelFor, checkChannelPrefix, MAX_CHANNEL_BYTES, quoteIdentifier } from "./channel.ts";
export { MAX_NOTIFY_BYTES, type NotifyOptions, type NotifyQuery, notifyQuery, publishIn } from "./notify.ts";
export { PostgresConnectionError, PostgresLimitError, PostgresPublishError } from "./errors.ts";
export type { PgListenClient, PgNotification, PgQueryable } from "./types.ts";
