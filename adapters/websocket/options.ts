/**
 * Options shared by every WebSocket target: the hub, its connections, and the
 * reconnecting spoke.
 *
 * @module
 */

import type { Codec } from "../../core/envelope.ts";
import type { PubSubError } from "../../core/errors.ts";
import { DEFAULT_FAIR_SLICE } from "../../core/fair_scheduler.ts";
import {
  DEFAULT_HUB_INBOUND_LIMITS,
  inboundLimitsWithDefaults,
  type InboundRateLimits,
} from "../../core/inbound_rate_limit.ts";
import { DEFAULT_FRAME_OVERHEAD } from "../../core/send_budget.ts";
import { TokenBucket } from "../../core/token_bucket.ts";
import type { TypedEvent } from "../../core/types.ts";
import { positiveNumber as positive } from "../../core/positive.ts";

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
   * The send budget of one connection, in bytes: what its unsent frames may
   * cost, counted as the socket's `bufferedAmount` plus `frameOverhead` per
   * frame still in flight. Every send counts (data, pong, handshake); a send
   * that would pass it counts the peer as too slow (see `backpressure`).
   *
   * @default {16777216}
   */
  highWaterMark?: number;
  /**
   * Bytes charged per frame in flight on top of its payload, for the send
   * budget (`highWaterMark`). Deno 2.9 holds about 850–920 bytes per queued
   * `send` besides the payload.
   *
   * @default {1024}
   */
  frameOverhead?: number;
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
   * @default {console.error with a "[pubsub/websocket]" prefix, at most 10 a second per process (bursts of 20), then a count of the suppressed ones}
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

/**
 * Limits on what a peer may send to the accepting side (a hub, or a
 * `createWebSocketEventTarget` given `authenticate` or `request`). They guard
 * a server against a hostile or broken client; the dialing side (a spoke)
 * trusts its hub and applies none of them. See docs/architecture/websocket.md
 * ("Limits against abuse") for the close codes.
 *
 * @example
 * ```ts
 * import type { WebSocketPeerLimits } from "@alkdev/pubsub/websocket";
 *
 * const limits: WebSocketPeerLimits = {
 *   inboundLimits: { framesPerSecond: 1_000, bytesPerSecond: 1024 * 1024 },
 *   maxInvalidFrames: 5,
 * };
 * ```
 */
export interface WebSocketPeerLimits {
  /**
   * Inbound rate limits once the connection is open (handshake done), as
   * token buckets; past either the connection is closed with 4008 (a
   * WebSocket cannot pause reading). `false` turns them off. Text frames are
   * counted in UTF-16 code units; the byte burst is never less than
   * `maxMessageBytes`. A rate given without its burst gets a burst of twice
   * the rate; `Infinity` leaves that dimension unlimited.
   *
   * The defaults let a paced library spoke send 50,000 events at once and
   * 22,500 a second after that, while a peer flooding faster than the hub
   * reads is closed within about a second (docs/architecture/websocket.md,
   * "Limits against abuse").
   *
   * @default {{ framesPerSecond: 25000, frameBurst: 100000, bytesPerSecond: 8388608, byteBurst: 16777216 }}
   */
  inboundLimits?: InboundRateLimits | false;
  /**
   * Inbound rate limits before the handshake is done (only with
   * `authenticate`). A frame larger than the byte burst closes the
   * connection with 4008.
   *
   * @default {{ framesPerSecond: 5, frameBurst: 10, bytesPerSecond: 65536, byteBurst: 65536 }}
   */
  handshakeInboundLimits?: InboundRateLimits;
  /**
   * The send budget (see `highWaterMark`) before the handshake is done (only
   * with `authenticate`). Before it is done the accepting side sends nothing
   * but its own pings and `["ack"]`: it answers no ping.
   *
   * @default {16384}
   */
  handshakeHighWaterMark?: number;
  /**
   * Invalid frames (not an envelope, not a known control frame, a `Blob`)
   * within `invalidFrameWindow` ms that close the connection with 4400. Each
   * one before that is dropped and reported.
   *
   * @default {20}
   */
  maxInvalidFrames?: number;
  /**
   * The window of `maxInvalidFrames`, in ms.
   *
   * @default {10000}
   */
  invalidFrameWindow?: number;
  /**
   * Frames of one connection handled within one synchronous run (a chunk of
   * frames the runtime hands over at once, as Node's `ws` does) before the
   * rest wait for later turns, round-robin with the other connections of the
   * same hub, so one connection's burst cannot starve the others. Frames
   * handed over one at a time (Deno) never wait. At most the frame burst
   * (`inboundLimits.frameBurst`; 20,000 with `inboundLimits: false`) waits
   * per connection, so a peer within the announced limits fills it only if
   * the hub handles frames slower than the announced rate (the byte burst
   * bounds its memory); more closes it with 4008. The same bound applies to
   * the frames one connection has handled at once within one macrotask turn
   * (it holds the event loop: Deno runs no timer meanwhile).
   *
   * @default {256}
   */
  inboundSlice?: number;
}

/** Resolved peer limits. @internal */
export interface ResolvedPeerLimits {
  inbound: InboundRateLimits | undefined;
  handshakeInbound: InboundRateLimits;
  handshakeHighWaterMark: number;
  maxInvalidFrames: number;
  invalidFrameWindow: number;
  inboundSlice: number;
  maxBacklog: number;
}

/**
 * The most frames of one connection that wait their turn (see `inboundSlice`) without a frame rate limit.
 * @internal
 */
export const MAX_INBOUND_BACKLOG = 20_000;
/** @internal */
export const DEFAULT_HANDSHAKE_INBOUND_LIMITS: Readonly<Required<InboundRateLimits>> = {
  framesPerSecond: 5,
  frameBurst: 10,
  bytesPerSecond: 64 * 1024,
  byteBurst: 64 * 1024,
};

/** Validates and fills in the peer limits. @internal */
export function resolvePeerLimits(options: WebSocketPeerLimits): ResolvedPeerLimits {
  const inbound = options.inboundLimits === false
    ? undefined
    : withDefaults("inboundLimits", options.inboundLimits, DEFAULT_HUB_INBOUND_LIMITS);
  const handshakeInbound = withDefaults(
    "handshakeInboundLimits",
    options.handshakeInboundLimits,
    DEFAULT_HANDSHAKE_INBOUND_LIMITS,
  );
  const maxInvalidFrames = positiveInteger("maxInvalidFrames", options.maxInvalidFrames ?? 20);
  const inboundSlice = positiveInteger("inboundSlice", options.inboundSlice ?? DEFAULT_FAIR_SLICE);
  const burst = inbound?.frameBurst ?? Infinity;
  return {
    inbound,
    handshakeInbound,
    handshakeHighWaterMark: positive("handshakeHighWaterMark", options.handshakeHighWaterMark ?? 16 * 1024),
    maxInvalidFrames,
    invalidFrameWindow: positive("invalidFrameWindow", options.invalidFrameWindow ?? 10_000),
    inboundSlice,
    maxBacklog: Number.isFinite(burst) ? burst : MAX_INBOUND_BACKLOG,
  };
}

/** `inboundLimitsWithDefaults`, each value checked under the option's `name`. */
function withDefaults(
  name: string,
  given: InboundRateLimits | undefined,
  defaults: Readonly<Required<InboundRateLimits>>,
): InboundRateLimits {
  const limits = inboundLimitsWithDefaults(given, defaults);
  for (const [key, value] of Object.entries(limits)) positive(`${name}.${key}`, value);
  return limits;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(positive(name, value))) {
    throw new RangeError(`Expected ${name} to be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Resolved defaults. @internal */
export interface ResolvedCommonOptions {
  codec: Codec;
  maxMessageBytes: number;
  heartbeat: { interval: number; timeout: number } | undefined;
  highWaterMark: number;
  frameOverhead: number;
  backpressure: BackpressurePolicy;
  outboxSize: number;
  onError: (error: PubSubError) => void;
}

/** @internal */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** @internal */
export const DEFAULT_HIGH_WATER_MARK = 16 * 1024 * 1024;
/** @internal */
export const DEFAULT_OUTBOX_SIZE = 1024;
/** @internal */
export const DEFAULT_HANDSHAKE_TIMEOUT = 5_000;

/** Validates and fills in the common options. @internal */
export function resolveCommonOptions(options: WebSocketCommonOptions, codec: Codec): ResolvedCommonOptions {
  const maxMessageBytes = positive("maxMessageBytes", options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const highWaterMark = positive("highWaterMark", options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
  const frameOverhead = options.frameOverhead ?? DEFAULT_FRAME_OVERHEAD;
  if (typeof frameOverhead !== "number" || !(frameOverhead >= 0)) {
    throw new RangeError(`Expected frameOverhead to be a non-negative number, got ${String(frameOverhead)}`);
  }
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
    frameOverhead,
    backpressure,
    outboxSize,
    onError: options.onError ?? defaultOnError,
  };
}

/** Turns a credentials option into a function. @internal */
export function credentialsFunction(credentials: unknown): () => unknown {
  return typeof credentials === "function" ? credentials as () => unknown : () => credentials;
}

// One throttle per process: a flood of bad frames must not make logging the bottleneck.
const logged = new TokenBucket(10, 20);
let suppressed = 0;

function defaultOnError(error: PubSubError): void {
  if (!logged.take()) {
    suppressed++;
    return;
  }
  if (suppressed > 0) {
    console.error(`[pubsub/websocket] ${suppressed} more errors were not logged (at most 10 a second)`);
    suppressed = 0;
  }
  console.error("[pubsub/websocket]", error);
}

/**
 * Decides on a spoke's credentials (the third element of its hello,
 * `["hello", 2, credentials]`; `undefined` when there is none). Return `true`
 * or a context object (kept for the connection and passed to `authorize`) to
 * accept; anything else, or a throw, closes the connection with 4401.
 *
 * @typeParam TRequest The upgrade request type, e.g. `Request` on Deno.
 * @typeParam TContext The context type returned for accepted connections.
 *
 * @example
 * ```ts
 * import type { Authenticate } from "@alkdev/pubsub/websocket";
 *
 * const authenticate: Authenticate<Request, { user: string }> = (credentials, request) =>
 *   (credentials as { token?: string })?.token === "secret" && new URL(request.url).pathname === "/events"
 *     ? { user: "ada" }
 *     : false;
 * ```
 */
export type Authenticate<TRequest = unknown, TContext = unknown> = (
  credentials: unknown,
  request: TRequest,
) => boolean | TContext | Promise<boolean | TContext>;

/**
 * Handshake options for the accepting (hub) side.
 *
 * @typeParam TRequest The upgrade request type.
 *
 * @example
 * ```ts
 * import type { WebSocketAcceptOptions } from "@alkdev/pubsub/websocket";
 *
 * const options: WebSocketAcceptOptions<Request> = {
 *   authenticate: (credentials) => credentials === "letmein",
 *   handshakeTimeout: 3_000,
 * };
 * ```
 */
export interface WebSocketAcceptOptions<TRequest = unknown> {
  /**
   * Decides on the credentials of the peer's hello; without it, every hello
   * is accepted.
   */
  authenticate?: Authenticate<TRequest>;
  /**
   * Milliseconds from the socket opening to the end of the handshake
   * (hello received and `authenticate` settled); past it, the socket
   * closes with 4408.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
}
