/**
 * Errors of the PostgreSQL adapter. Each has a stable `code`; invalid
 * incoming notifications are reported as the core `EnvelopeError`
 * (`ERR_INVALID_ENVELOPE`).
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";

/**
 * An event's encoded envelope is too large for `NOTIFY`: PostgreSQL takes
 * payloads shorter than 8000 bytes. Thrown by `publish` (and so by
 * `pubsub.publish`, `publishIn` and `notifyQuery`) before anything is sent;
 * never truncated, never dropped silently.
 *
 * @example
 * ```ts
 * import { PostgresLimitError } from "@alkdev/pubsub/postgres";
 *
 * const error = new PostgresLimitError("alk.events:ping:1", 9000, 7999);
 * console.log(error.code, error.size, error.limit); // "ERR_POSTGRES_LIMIT" 9000 7999
 * ```
 */
export class PostgresLimitError extends PubSubError {
  /** The channel. */
  readonly channel: string;
  /** The encoded envelope's size, in UTF-8 bytes. */
  readonly size: number;
  /** The largest size allowed, in bytes. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param channel The channel.
   * @param size The encoded size in bytes.
   * @param limit The largest size allowed.
   */
  constructor(channel: string, size: number, limit: number) {
    super(
      "ERR_POSTGRES_LIMIT",
      `Cannot notify PostgreSQL channel ${
        JSON.stringify(channel)
      }: the encoded event is ${size} bytes, over the limit of ${limit}`,
    );
    this.name = "PostgresLimitError";
    this.channel = channel;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A `pg_notify` query failed (the publishing client's connection is closed,
 * the server refused it), or the target's publish queue was full. Reported
 * through `onError` for events published through `dispatchEvent`;
 * `publishIn` rejects with the client's own error.
 *
 * @example
 * ```ts
 * import { PostgresPublishError } from "@alkdev/pubsub/postgres";
 *
 * const error = new PostgresPublishError("alk.events:ping:1", new Error("Connection terminated"));
 * console.log(error.code, error.channel); // "ERR_POSTGRES_PUBLISH" "alk.events:ping:1"
 * ```
 */
export class PostgresPublishError extends PubSubError {
  /** The channel of the (first) event that was not sent. */
  readonly channel: string;

  /**
   * Constructs a new instance.
   *
   * @param channel The channel.
   * @param cause What the client raised.
   */
  constructor(channel: string, cause: unknown) {
    super("ERR_POSTGRES_PUBLISH", `Cannot notify PostgreSQL channel ${JSON.stringify(channel)}: ${message(cause)}`, {
      cause,
    });
    this.name = "PostgresPublishError";
    this.channel = channel;
  }
}

/**
 * Opening the listening connection, or a `LISTEN`/`UNLISTEN` on it, failed.
 * The target keeps retrying with backoff (`ready()` waits meanwhile).
 *
 * @example
 * ```ts
 * import { PostgresConnectionError } from "@alkdev/pubsub/postgres";
 *
 * const error = new PostgresConnectionError("connect", new Error("ECONNREFUSED"));
 * console.log(error.code, error.operation); // "ERR_POSTGRES_CONNECTION" "connect"
 * ```
 */
export class PostgresConnectionError extends PubSubError {
  /** What failed: opening the connection, or a command on it. */
  readonly operation: "connect" | "listen" | "unlisten" | "connection";

  /**
   * Constructs a new instance.
   *
   * @param operation What failed.
   * @param cause What the client raised.
   */
  constructor(operation: "connect" | "listen" | "unlisten" | "connection", cause: unknown) {
    const what = operation === "connection" ? "The listening connection was lost" : `Cannot ${operation}`;
    super("ERR_POSTGRES_CONNECTION", `${what}: ${message(cause)}`, { cause });
    this.name = "PostgresConnectionError";
    this.operation = operation;
  }
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
