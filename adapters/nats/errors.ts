/**
 * Errors of the NATS adapter. Each has a stable `code`; invalid incoming
 * messages are reported as the core `EnvelopeError` (`ERR_INVALID_ENVELOPE`).
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";

/**
 * An event is larger than NATS allows: its encoded envelope exceeds the
 * server's `max_payload`, or its subject exceeds the adapter's
 * `maxSubjectLength`. Thrown by `publish` (and so by `pubsub.publish`) before
 * anything is sent or delivered; a too-long subject also fails `subscribe`.
 *
 * @example
 * ```ts
 * import { NatsLimitError } from "@alkdev/pubsub/nats";
 *
 * const error = new NatsLimitError("max_payload", "alk.events.ping:1", 2_000_000, 1_048_576);
 * console.log(error.code, error.limitName, error.size, error.limit); // "ERR_NATS_LIMIT" "max_payload" 2000000 1048576
 * ```
 */
export class NatsLimitError extends PubSubError {
  /** Which limit: the server's `max_payload`, or the adapter's `maxSubjectLength`. */
  readonly limitName: "max_payload" | "maxSubjectLength";
  /** The subject. */
  readonly subject: string;
  /** The size, in bytes (payload) or characters (subject). */
  readonly size: number;
  /** The limit. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param limitName Which limit.
   * @param subject The subject.
   * @param size The size.
   * @param limit The limit.
   */
  constructor(limitName: "max_payload" | "maxSubjectLength", subject: string, size: number, limit: number) {
    const what = limitName === "max_payload"
      ? `the encoded event is ${size} bytes, over the server's max_payload of ${limit}`
      : `the subject is ${size} characters, over maxSubjectLength ${limit}`;
    super("ERR_NATS_LIMIT", `Cannot send to NATS subject ${JSON.stringify(preview(subject))}: ${what}`);
    this.name = "NatsLimitError";
    this.limitName = limitName;
    this.subject = subject;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The NATS client refused a publish or subscribe (for example, its
 * connection is closed), or the server refused a subscription (a permissions
 * violation). Reported through `onError`.
 *
 * @example
 * ```ts
 * import { NatsOperationError } from "@alkdev/pubsub/nats";
 *
 * const error = new NatsOperationError("publish", "alk.events.ping:1", new Error("closed connection"));
 * console.log(error.code, error.operation); // "ERR_NATS_OPERATION" "publish"
 * ```
 */
export class NatsOperationError extends PubSubError {
  /** What failed. */
  readonly operation: "publish" | "subscribe";
  /** The subject. */
  readonly subject: string;

  /**
   * Constructs a new instance.
   *
   * @param operation What failed.
   * @param subject The subject.
   * @param cause What the client raised.
   */
  constructor(operation: "publish" | "subscribe", subject: string, cause: unknown) {
    super(
      "ERR_NATS_OPERATION",
      `Cannot ${operation} NATS subject ${JSON.stringify(preview(subject))}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "NatsOperationError";
    this.operation = operation;
    this.subject = subject;
  }
}

/**
 * The connection closed for good (the client gave up reconnecting, or was
 * closed by its owner). Reported through `onError`; waiting `ready(topic)`
 * calls reject with it.
 *
 * @example
 * ```ts
 * import { NatsConnectionError } from "@alkdev/pubsub/nats";
 *
 * console.log(new NatsConnectionError("The NATS connection closed").code); // "ERR_NATS_CONNECTION"
 * ```
 */
export class NatsConnectionError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_NATS_CONNECTION", message, options);
    this.name = "NatsConnectionError";
  }
}

function preview(subject: string): string {
  return subject.length > 120 ? subject.slice(0, 120) + "…" : subject;
}
