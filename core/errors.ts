/**
 * Error classes for the conditions callers are expected to catch. Each has a
 * stable `code`; match on `code` (or `instanceof`), never on the message.
 *
 * @module
 */

/**
 * The base class of every error this package raises on purpose.
 *
 * @example Matching on the code
 * ```ts
 * import { PubSubError, createPubSub } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ ping: number }>();
 * pubsub.close();
 * try {
 *   pubsub.publish("ping", "1", 1);
 * } catch (error) {
 *   if (error instanceof PubSubError) console.log(error.code); // "ERR_PUBSUB_CLOSED"
 * }
 * ```
 */
export class PubSubError extends Error {
  /** A stable, machine-readable code such as `"ERR_PUBSUB_CLOSED"`. */
  readonly code: string;

  /**
   * Constructs a new instance.
   *
   * @param code The stable code.
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PubSubError";
    this.code = code;
  }
}

/**
 * Raised when a closed pub/sub (or transport) is used.
 *
 * @example
 * ```ts
 * import { PubSubClosedError, createPubSub } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ ping: number }>();
 * pubsub.close();
 * try {
 *   pubsub.subscribe("ping", "1");
 * } catch (error) {
 *   console.log(error instanceof PubSubClosedError); // true
 * }
 * ```
 */
export class PubSubClosedError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(message = "The pub/sub is closed", options?: ErrorOptions) {
    super("ERR_PUBSUB_CLOSED", message, options);
    this.name = "PubSubClosedError";
  }
}

/**
 * Thrown from a subscription's `next()` under the `"error"` overflow policy,
 * after the events buffered before the overflow have been delivered. The
 * subscription has ended; events after the overflow were not kept.
 *
 * @example
 * ```ts
 * import { SubscriptionOverflowError, createPubSub } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ tick: number }>();
 * const sub = pubsub.subscribe("tick", "a", { bufferSize: 1, overflow: "error" });
 * pubsub.publish("tick", "a", 1);
 * pubsub.publish("tick", "a", 2); // overflows
 * console.log((await sub.next()).value); // 1
 * await sub.next().catch((e) => console.log(e instanceof SubscriptionOverflowError)); // true
 * pubsub.close();
 * ```
 */
export class SubscriptionOverflowError extends PubSubError {
  /** The buffer size that was exceeded. */
  readonly bufferSize: number;

  /**
   * Constructs a new instance.
   *
   * @param topic The subscription's topic.
   * @param bufferSize The buffer size that was exceeded.
   */
  constructor(topic: string, bufferSize: number) {
    super(
      "ERR_SUBSCRIPTION_OVERFLOW",
      `Subscription to ${
        JSON.stringify(topic)
      } overflowed its buffer of ${bufferSize} events: the consumer is too slow`,
    );
    this.name = "SubscriptionOverflowError";
    this.bufferSize = bufferSize;
  }
}

/**
 * Raised when data from a boundary is not a valid {@linkcode EventEnvelope}:
 * not decodable, wrongly shaped, carrying a `__proto__` key, or not matching
 * the channel it arrived on. Transports report it through their error channel
 * and keep running.
 *
 * @example
 * ```ts
 * import { EnvelopeError, decodeEnvelope } from "@alkdev/pubsub";
 *
 * try {
 *   decodeEnvelope("notjson");
 * } catch (error) {
 *   console.log(error instanceof EnvelopeError, (error as EnvelopeError).code); // true "ERR_INVALID_ENVELOPE"
 * }
 * ```
 */
export class EnvelopeError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_INVALID_ENVELOPE", message, options);
    this.name = "EnvelopeError";
  }
}

/**
 * Raised when a frame or message is larger than the configured limit. The
 * oversized data is never allocated or decoded.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError } from "@alkdev/pubsub";
 *
 * const error = new FrameTooLargeError(2_000_000, 1_048_576);
 * console.log(error.code, error.size, error.limit); // "ERR_FRAME_TOO_LARGE" 2000000 1048576
 * ```
 */
export class FrameTooLargeError extends PubSubError {
  /** The announced or observed size, in bytes. */
  readonly size: number;
  /** The limit, in bytes. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param size The announced or observed size, in bytes.
   * @param limit The limit, in bytes.
   */
  constructor(size: number, limit: number) {
    super("ERR_FRAME_TOO_LARGE", `Frame of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = "FrameTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * Why a hub refused a subscribe or a publish:
 * - `"forbidden"`: `authorize` returned something other than `true`, or threw;
 * - `"too-many-subscriptions"`: the connection holds its limit of subscriptions;
 * - `"topic-too-long"`: the topic is longer than the hub's limit;
 * - `"invalid-topic"`: the string is not a topic made by `topicFor`;
 * - `"unavailable"`: the hub's upstream could not subscribe (or, for a
 *   publish, too many wait for an asynchronous schema);
 * - `"invalid-payload"`: a publish whose payload failed the hub's schema for
 *   its event type (publishes only).
 *
 * @example
 * ```ts
 * import type { RefusalReason } from "@alkdev/pubsub";
 *
 * const reason: RefusalReason = "forbidden";
 * ```
 */
export type RefusalReason =
  | "forbidden"
  | "too-many-subscriptions"
  | "topic-too-long"
  | "invalid-topic"
  | "unavailable"
  | "invalid-payload";

const REFUSAL_REASONS: ReadonlySet<string> = new Set([
  "forbidden",
  "too-many-subscriptions",
  "topic-too-long",
  "invalid-topic",
  "unavailable",
  "invalid-payload",
]);

/**
 * Whether a value from the wire is a {@linkcode RefusalReason}.
 *
 * @param value The value.
 * @returns `true` for one of the reasons.
 *
 * @example
 * ```ts
 * import { isRefusalReason } from "@alkdev/pubsub";
 *
 * console.log(isRefusalReason("forbidden"), isRefusalReason("nope")); // true false
 * ```
 */
export function isRefusalReason(value: unknown): value is RefusalReason {
  return typeof value === "string" && REFUSAL_REASONS.has(value);
}

/**
 * A hub refused a subscription. The spoke's subscriptions to the topic end
 * with this error (their `next()` rejects with it after any buffered events),
 * and `ready()` for the topic rejects with it. The hub sends nothing for the
 * topic.
 *
 * @example
 * ```ts
 * import { SubscriptionRefusedError } from "@alkdev/pubsub";
 *
 * const error = new SubscriptionRefusedError("secret:1", "forbidden");
 * console.log(error.code, error.topic, error.reason); // "ERR_SUBSCRIPTION_REFUSED" "secret:1" "forbidden"
 * ```
 */
export class SubscriptionRefusedError extends PubSubError {
  /** The refused topic. */
  readonly topic: string;
  /** Why it was refused. */
  readonly reason: RefusalReason;

  /**
   * Constructs a new instance.
   *
   * @param topic The refused topic.
   * @param reason Why it was refused.
   * @param message The hub's message, if any.
   * @param options The cause, if any.
   */
  constructor(topic: string, reason: RefusalReason, message?: string, options?: ErrorOptions) {
    super(
      "ERR_SUBSCRIPTION_REFUSED",
      message ?? `Subscription to ${JSON.stringify(topic)} was refused (${reason})`,
      options,
    );
    this.name = "SubscriptionRefusedError";
    this.topic = topic;
    this.reason = reason;
  }
}

/**
 * A hub refused a publish: the event was dropped and reached no one past the
 * hub. The sender's own local subscribers had already received it. Reported
 * through the sender's error channel; the connection stays open.
 *
 * @example
 * ```ts
 * import { PublishRefusedError } from "@alkdev/pubsub";
 *
 * const error = new PublishRefusedError("admin.command:1", "forbidden");
 * console.log(error.code, error.topic); // "ERR_PUBLISH_REFUSED" "admin.command:1"
 * ```
 */
export class PublishRefusedError extends PubSubError {
  /** The topic of the refused event. */
  readonly topic: string;
  /** Why it was refused. */
  readonly reason: RefusalReason;

  /**
   * Constructs a new instance.
   *
   * @param topic The topic of the refused event.
   * @param reason Why it was refused.
   * @param message The hub's message, if any.
   * @param options The cause, if any.
   */
  constructor(topic: string, reason: RefusalReason, message?: string, options?: ErrorOptions) {
    super("ERR_PUBLISH_REFUSED", message ?? `Publish to ${JSON.stringify(topic)} was refused (${reason})`, options);
    this.name = "PublishRefusedError";
    this.topic = topic;
    this.reason = reason;
  }
}
