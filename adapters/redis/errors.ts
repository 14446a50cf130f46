/**
 * Errors the Redis adapter reports through its `onError` option. Each has a
 * stable `code`; invalid incoming messages are reported as the core
 * `EnvelopeError` (`ERR_INVALID_ENVELOPE`) instead.
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";

/**
 * A PUBLISH (or SPUBLISH) failed, for example because the publish client's
 * connection is closed. Events published through `dispatchEvent` report this
 * through `onError`; `publish()` rejects with it.
 *
 * @example
 * ```ts
 * import { RedisPublishError } from "@alkdev/pubsub/redis";
 *
 * const error = new RedisPublishError("alk:events:ping:1", new Error("Connection is closed."));
 * console.log(error.code, error.channel); // "ERR_REDIS_PUBLISH" "alk:events:ping:1"
 * ```
 */
export class RedisPublishError extends PubSubError {
  /** The Redis channel the event was published to. */
  readonly channel: string;

  /**
   * Constructs a new instance.
   *
   * @param channel The Redis channel.
   * @param cause The error ioredis raised.
   */
  constructor(channel: string, cause: unknown) {
    super("ERR_REDIS_PUBLISH", `Cannot publish to Redis channel ${JSON.stringify(channel)}: ${message(cause)}`, {
      cause,
    });
    this.name = "RedisPublishError";
    this.channel = channel;
  }
}

/**
 * A SUBSCRIBE or UNSUBSCRIBE (or their sharded forms) failed. Waiting
 * `ready(topic)` calls for the channel reject with it; the adapter tries the
 * channel again after the next reconnection.
 *
 * @example
 * ```ts
 * import { RedisSubscribeError } from "@alkdev/pubsub/redis";
 *
 * const error = new RedisSubscribeError("subscribe", "alk:events:ping:1", new Error("Connection is closed."));
 * console.log(error.code, error.operation); // "ERR_REDIS_SUBSCRIBE" "subscribe"
 * ```
 */
export class RedisSubscribeError extends PubSubError {
  /** The Redis channel. */
  readonly channel: string;
  /** What failed. */
  readonly operation: "subscribe" | "unsubscribe";

  /**
   * Constructs a new instance.
   *
   * @param operation What failed.
   * @param channel The Redis channel.
   * @param cause The error ioredis raised.
   */
  constructor(operation: "subscribe" | "unsubscribe", channel: string, cause: unknown) {
    super("ERR_REDIS_SUBSCRIBE", `Cannot ${operation} Redis channel ${JSON.stringify(channel)}: ${message(cause)}`, {
      cause,
    });
    this.name = "RedisSubscribeError";
    this.channel = channel;
    this.operation = operation;
  }
}

/**
 * The subscribe client's connection ended for good (ioredis emitted `end`:
 * the client was quit or its `retryStrategy` gave up). Waiting `ready(topic)`
 * calls reject with it.
 *
 * @example
 * ```ts
 * import { RedisConnectionError } from "@alkdev/pubsub/redis";
 *
 * console.log(new RedisConnectionError("The subscribe client's connection ended").code); // "ERR_REDIS_CONNECTION"
 * ```
 */
export class RedisConnectionError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_REDIS_CONNECTION", message, options);
    this.name = "RedisConnectionError";
  }
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
