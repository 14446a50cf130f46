/**
 * What the PostgreSQL adapter uses of a client, declared structurally so
 * that importing `@alkdev/pubsub/postgres` needs no PostgreSQL package: a
 * `Client` or `Pool` of [`pg`](https://node-postgres.com) 8.x fits as is.
 *
 * @module
 */

/**
 * A notification, as `pg` emits it on its `"notification"` event.
 *
 * @example
 * ```ts
 * import type { PgNotification } from "@alkdev/pubsub/postgres";
 *
 * const message: PgNotification = { processId: 42, channel: "alk.events:ping:1", payload: "{}" };
 * ```
 */
export interface PgNotification {
  /** The backend process that sent it. */
  readonly processId: number;
  /** The channel. */
  readonly channel: string;
  /** The payload (`""` when none was given). */
  readonly payload?: string;
}

/**
 * Anything that runs a parameterized query: a `pg` `Client`, `Pool` or
 * `PoolClient` (a transaction's client, for `publishIn`).
 *
 * @example
 * ```ts ignore
 * import pg from "pg";
 * import type { PgQueryable } from "@alkdev/pubsub/postgres";
 *
 * const pool: PgQueryable = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1/test" });
 * ```
 */
export interface PgQueryable {
  /** Runs `text` with the parameters `$1, $2, …` bound to `values`. */
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/**
 * A connected `pg` `Client` the target listens on: it runs `LISTEN` and
 * `UNLISTEN`, emits `"notification"`, `"error"` and `"end"`, and is ended by
 * the target when it is done with it.
 *
 * @example
 * ```ts ignore
 * import pg from "pg";
 * import type { PgListenClient } from "@alkdev/pubsub/postgres";
 *
 * const client = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1/test" });
 * await client.connect();
 * const listener: PgListenClient = client;
 * ```
 */
export interface PgListenClient extends PgQueryable {
  /** Adds a notification listener. */
  on(event: "notification", listener: (message: PgNotification) => void): unknown;
  /** Adds an error listener (a lost connection is reported here, then `"end"`). */
  on(event: "error", listener: (error: Error) => void): unknown;
  /** Adds a listener for the end of the connection. */
  on(event: "end", listener: () => void): unknown;
  /** Closes the connection. */
  end(): Promise<void>;
}
