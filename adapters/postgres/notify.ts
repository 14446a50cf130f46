/**
 * Publishing inside the caller's own transaction: the SQL and parameters of
 * one `pg_notify`, built exactly as the event target builds them.
 *
 * @module
 */

import { type Codec, jsonCodec, outgoingEnvelope } from "../../core/envelope.ts";
import { topicFor } from "../../core/topic.ts";
import type { EventEnvelope } from "../../core/types.ts";
import { channelFor, checkChannelPrefix } from "./channel.ts";
import { PostgresLimitError } from "./errors.ts";
import type { PgQueryable } from "./types.ts";

/**
 * The largest `NOTIFY` payload, in UTF-8 bytes: PostgreSQL takes payloads
 * shorter than 8000 bytes (in its default build).
 *
 * @example
 * ```ts
 * import { MAX_NOTIFY_BYTES } from "@alkdev/pubsub/postgres";
 *
 * console.log(MAX_NOTIFY_BYTES); // 7999
 * ```
 */
export const MAX_NOTIFY_BYTES = 7999;

/** The default channel prefix. */
export const DEFAULT_PREFIX = "alk.events:";

/**
 * Options of {@linkcode notifyQuery} and {@linkcode publishIn}: the same
 * `prefix` and `codec` as the listening targets'.
 *
 * @example
 * ```ts
 * import type { NotifyOptions } from "@alkdev/pubsub/postgres";
 *
 * const options: NotifyOptions = { prefix: "app:" };
 * ```
 */
export interface NotifyOptions {
  /**
   * The channel prefix (see `checkChannelPrefix`).
   *
   * @default {"alk.events:"}
   */
  prefix?: string;
  /**
   * Encodes the envelope; its output must be text (bytes are read as UTF-8).
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
}

/**
 * A parameterized query: pass it to a `pg` client as `client.query(text, values)`
 * or `client.query(query)`.
 *
 * @example
 * ```ts
 * import type { NotifyQuery } from "@alkdev/pubsub/postgres";
 *
 * const query: NotifyQuery = { text: "SELECT pg_notify($1, $2)", values: ["alk.events:ping:1", "{}"] };
 * ```
 */
export interface NotifyQuery {
  /** `SELECT pg_notify($1, $2)`. */
  text: string;
  /** The channel and the encoded envelope. */
  values: [channel: string, payload: string];
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * Encodes an envelope as a notification: its channel and its text payload.
 * Internal: shared by the target and {@linkcode notifyQuery}.
 *
 * @throws {PostgresLimitError} If the payload is 8000 bytes or more.
 */
export function encodeNotification(
  prefix: string,
  codec: Codec,
  envelope: EventEnvelope,
  topic: string = topicFor(envelope.type, envelope.id),
): NotifyQuery["values"] {
  const channel = channelFor(prefix, topic);
  const encoded = codec.encode(envelope);
  const payload = typeof encoded === "string" ? encoded : decoder.decode(encoded);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: count exactly only when it may matter.
  if (payload.length * 3 > MAX_NOTIFY_BYTES) {
    const size = encoder.encode(payload).byteLength;
    if (size > MAX_NOTIFY_BYTES) throw new PostgresLimitError(channel, size, MAX_NOTIFY_BYTES);
  }
  return [channel, payload];
}

/**
 * Builds the query that publishes one event with `pg_notify`, for the
 * caller to run on their own client, usually inside their own transaction:
 * PostgreSQL delivers it to every listening target if and when the
 * transaction commits, and never if it rolls back. Channel and payload are
 * bound parameters, never spliced into the SQL.
 *
 * PostgreSQL folds identical notifications (same channel, same payload) of
 * one transaction into one.
 *
 * @param type The event type.
 * @param id The event id.
 * @param payload The payload.
 * @param options The prefix and codec of the listening targets.
 * @returns `{ text: "SELECT pg_notify($1, $2)", values: [channel, payload] }`.
 * @throws {PostgresLimitError} If the encoded envelope is 8000 bytes or more.
 * @throws {EnvelopeError} If `type` is empty.
 *
 * @example
 * ```ts
 * import { notifyQuery } from "@alkdev/pubsub/postgres";
 *
 * const query = notifyQuery("job.progress", "42", 50);
 * console.log(query.text); // "SELECT pg_notify($1, $2)"
 * console.log(query.values); // ["alk.events:job.progress:42", '{"type":"job.progress","id":"42","payload":50}']
 * // await client.query("BEGIN"); await client.query("UPDATE jobs ..."); await client.query(query); await client.query("COMMIT");
 * ```
 */
export function notifyQuery(type: string, id: string, payload: unknown, options: NotifyOptions = {}): NotifyQuery {
  const prefix = checkChannelPrefix(options.prefix ?? DEFAULT_PREFIX);
  const envelope = outgoingEnvelope({ type, id, payload });
  return { text: NOTIFY_SQL, values: encodeNotification(prefix, options.codec ?? jsonCodec, envelope) };
}

/** The one statement that publishes. */
export const NOTIFY_SQL = "SELECT pg_notify($1, $2)";

/**
 * Publishes one event on `tx`, the caller's client, usually inside their
 * transaction (`BEGIN` … `COMMIT`): the event is delivered if and when the
 * transaction commits, once, and not at all if it rolls back. Rejects with
 * the client's own error if the query fails.
 *
 * @param tx A `pg` client (inside a transaction: the `PoolClient` that ran `BEGIN`).
 * @param type The event type.
 * @param id The event id.
 * @param payload The payload.
 * @param options The prefix and codec of the listening targets.
 * @returns Resolves once the server ran `pg_notify` (delivery waits for the commit); rejects with
 *   {@linkcode PostgresLimitError} (before any query) if the encoded envelope is 8000 bytes or more.
 *
 * @example
 * ```ts ignore
 * import pg from "pg";
 * import { publishIn } from "@alkdev/pubsub/postgres";
 *
 * const pool = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1/test" });
 * const tx = await pool.connect();
 * try {
 *   await tx.query("BEGIN");
 *   await tx.query("UPDATE jobs SET progress = $1 WHERE id = $2", [50, "42"]);
 *   await publishIn(tx, "job.progress", "42", 50);
 *   await tx.query("COMMIT"); // listeners get job.progress:42 now, not before
 * } catch (error) {
 *   await tx.query("ROLLBACK"); // and nothing at all here
 *   throw error;
 * } finally {
 *   tx.release();
 * }
 * ```
 */
export async function publishIn(
  tx: PgQueryable,
  type: string,
  id: string,
  payload: unknown,
  options?: NotifyOptions,
): Promise<void> {
  const query = notifyQuery(type, id, payload, options);
  await tx.query(query.text, query.values);
}
