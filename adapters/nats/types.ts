/**
 * What the NATS adapter uses of the official client, declared structurally so
 * that importing `@alkdev/pubsub/nats` needs no NATS package: a
 * `NatsConnection` from `@nats-io/transport-node` 3.x (or any 3.x transport)
 * fits as is.
 *
 * @module
 */

/**
 * A received message.
 *
 * @example
 * ```ts
 * import type { NatsMessage } from "@alkdev/pubsub/nats";
 *
 * const message: NatsMessage = { subject: "alk.events.ping:1", data: new Uint8Array() };
 * ```
 */
export interface NatsMessage {
  /** The subject it was published to. */
  readonly subject: string;
  /** The payload bytes. */
  readonly data: Uint8Array;
}

/**
 * A subscription handle.
 *
 * @example
 * ```ts
 * import type { NatsSubscriptionHandle } from "@alkdev/pubsub/nats";
 *
 * const handle: NatsSubscriptionHandle = { unsubscribe: () => {} };
 * ```
 */
export interface NatsSubscriptionHandle {
  /** Sends UNSUB. */
  unsubscribe(max?: number): void;
}

/**
 * A connection status change, as the client's `status()` iterator yields it
 * (`{ type: "disconnect" | "reconnecting" | "reconnect" | "close" | ... }`).
 *
 * @example
 * ```ts
 * import type { NatsStatus } from "@alkdev/pubsub/nats";
 *
 * const status: NatsStatus = { type: "reconnect" };
 * ```
 */
export interface NatsStatus {
  /** The kind of change. */
  readonly type: string;
}

/**
 * The part of a `NatsConnection` the adapter uses.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import type { NatsConnectionLike } from "@alkdev/pubsub/nats";
 *
 * const connection: NatsConnectionLike = await connect({ servers: "127.0.0.1:4222" });
 * ```
 */
export interface NatsConnectionLike {
  /** The server's INFO, while connected; `max_payload` is the largest payload it takes, in bytes. */
  readonly info?: { readonly max_payload: number };
  /** Publishes a payload (queued in the client; throws if the connection is closed or the payload too large). */
  publish(subject: string, payload?: string | Uint8Array): void;
  /** Subscribes; the callback receives every message (or a server error for the subscription). */
  subscribe(
    subject: string,
    options?: { callback?: (error: Error | null, message: NatsMessage) => void },
  ): NatsSubscriptionHandle;
  /** Resolves after a PING/PONG round trip: the server has processed everything sent before. */
  flush(): Promise<void>;
  /** Status changes, until the connection closes. */
  status(): AsyncIterable<NatsStatus>;
  /** Settles when the connection has closed for good. */
  closed(): Promise<void | Error>;
  /** Whether the connection has closed for good. */
  isClosed(): boolean;
}
