/**
 * Options shared by every WebSocket target: the hub, its connections, and the
 * reconnecting spoke.
 *
 * @module
 */

import type { Codec } from "../../core/envelope.ts";
import type { PubSubError } from "../../core/errors.ts";
import type { TypedEvent } from "../../core/types.ts";

/**
 * Heartbeat timing. Each side sends an application-level `["ping"]` every
 * `interval` ms (browsers cannot send WebSocket ping frames); the peer answers
 * `["pong"]`. If nothing at all arrives within `timeout` ms of a ping, the
 * socket is closed with 4000, so a silent peer is dropped within
 * `interval + timeout` ms of going silent.
 *
 * @example
 * ```ts
 * import type { HeartbeatOptions } from "@alkdev/pubsub/websocket";
 *
 * const heartbeat: HeartbeatOptions = { interval: 5_000, timeout: 2_000 };
 * ```
 */
export interface HeartbeatOptions {
  /**
   * Milliseconds between pings.
   *
   * @default {15000}
   */
  interval?: number;
  /**
   * Milliseconds to wait for any frame after a ping before closing.
   *
   * @default {10000}
   */
  timeout?: number;
}

/**
 * What happens when a socket's `bufferedAmount` passes `highWaterMark`:
 * `"close"` closes the connection with 4013 (a spoke then reconnects);
 * `"drop"` drops frames until the buffer drains below the mark. Either way the
 * error channel gets one {@linkcode WebSocketBackpressureError} per episode.
 *
 * @example
 * ```ts
 * import type { BackpressurePolicy } from "@alkdev/pubsub/websocket";
 *
 * const policy: BackpressurePolicy = "drop";
 * ```
 */
export type BackpressurePolicy = "close" | "drop";

/**
 * Options common to the hub, its connections and the spoke.
 *
 * @example
 * ```ts
 * import type { WebSocketCommonOptions } from "@alkdev/pubsub/websocket";
 *
 * const options: WebSocketCommonOptions = {
 *   maxMessageBytes: 64 * 1024,
 *   heartbeat: { interval: 5_000, timeout: 2_000 },
 *   onError: (error) => console.warn(error.code, error.message),
 * };
 * ```
 */
export interface WebSocketCommonOptions {
  /**
   * How envelopes become frames. A string becomes a text frame and bytes a
   * binary frame. Text frames that start with `[` are control frames, so a
   * text codec must never produce one (JSON objects never do).
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * The largest frame accepted or sent, in bytes (UTF-8 bytes for text). A
   * larger incoming frame closes the connection with 4009; a larger outgoing
   * event makes `dispatchEvent` (and so `publish`) throw
   * {@linkcode FrameTooLargeError} before anything is delivered.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * Heartbeat timing, or `false` to send no pings (pings from the peer are
   * still answered).
   *
   * @default {{ interval: 15000, timeout: 10000 }}
   */
  heartbeat?: HeartbeatOptions | false;
  /**
   * The socket's `bufferedAmount`, in bytes, above which the peer counts as
   * too slow.
   *
   * @default {8388608}
   */
  highWaterMark?: number;
  /**
   * What to do with a peer that reads too slowly.
   *
   * @default {"close"}
   */
  backpressure?: BackpressurePolicy;
  /**
   * The most events held while a socket is connecting, in the handshake, or
   * (for the spoke) disconnected. When full, the oldest is dropped and the
   * error channel gets one {@linkcode WebSocketOutboxOverflowError} per
   * disconnected period.
   *
   * @default {1024}
   */
  outboxSize?: number;
  /**
   * The error channel: bad frames, heartbeat timeouts, backpressure, outbox
   * overflow, failed handshakes. The same error is also dispatched as an
   * `"error"` event on the target.
   *
   * @default {console.error with a "[pubsub/websocket]" prefix}
   */
  onError?: (error: PubSubError) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
}

/**
 * Details of a closed connection, carried by `"close"` and (spoke)
 * `"disconnect"` events and by `closed` promises.
 *
 * @example
 * ```ts
 * import type { WebSocketCloseInfo } from "@alkdev/pubsub/websocket";
 *
 * const info: WebSocketCloseInfo = { code: 4401, reason: "Unauthorized" };
 * ```
 */
export interface WebSocketCloseInfo {
  /** The close code (1005 when the peer gave none, 1006 when the connection dropped). */
  code: number;
  /** The close reason. */
  reason: string;
  /** The error that caused the close, if the adapter closed the socket because of one. */
  error?: PubSubError;
}

/** Resolved defaults. @internal */
export interface ResolvedCommonOptions {
  codec: Codec;
  maxMessageBytes: number;
  heartbeat: { interval: number; timeout: number } | undefined;
  highWaterMark: number;
  backpressure: BackpressurePolicy;
  outboxSize: number;
  onError: (error: PubSubError) => void;
}

/** @internal */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** @internal */
export const DEFAULT_HIGH_WATER_MARK = 8 * 1024 * 1024;
/** @internal */
export const DEFAULT_OUTBOX_SIZE = 1024;
/** @internal */
export const DEFAULT_HANDSHAKE_TIMEOUT = 5_000;

/** Validates and fills in the common options. @internal */
export function resolveCommonOptions(options: WebSocketCommonOptions, codec: Codec): ResolvedCommonOptions {
  const maxMessageBytes = positive("maxMessageBytes", options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const highWaterMark = positive("highWaterMark", options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
  const outboxSize = positive("outboxSize", options.outboxSize ?? DEFAULT_OUTBOX_SIZE);
  const backpressure = options.backpressure ?? "close";
  if (backpressure !== "close" && backpressure !== "drop") {
    throw new RangeError(`Expected backpressure to be "close" or "drop", got ${JSON.stringify(backpressure)}`);
  }
  let heartbeat: ResolvedCommonOptions["heartbeat"];
  if (options.heartbeat !== false) {
    heartbeat = {
      interval: positive("heartbeat.interval", options.heartbeat?.interval ?? 15_000),
      timeout: positive("heartbeat.timeout", options.heartbeat?.timeout ?? 10_000),
    };
  }
  return {
    codec: options.codec ?? codec,
    maxMessageBytes,
    heartbeat,
    highWaterMark,
    backpressure,
    outboxSize,
    onError: options.onError ?? defaultOnError,
  };
}

/** Checks a positive number option. @internal */
export function positive(name: string, value: number): number {
  if (typeof value !== "number" || !(value > 0)) {
    throw new RangeError(`Expected ${name} to be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Turns a credentials option into a function. @internal */
export function credentialsFunction(credentials: unknown): () => unknown {
  return typeof credentials === "function" ? credentials as () => unknown : () => credentials;
}

function defaultOnError(error: PubSubError): void {
  console.error("[pubsub/websocket]", error);
}
