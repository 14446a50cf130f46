/**
 * Errors specific to the WebSocket adapter. Bad envelopes and oversized frames
 * use the core's {@linkcode EnvelopeError} and {@linkcode FrameTooLargeError}.
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";

/**
 * The handshake failed: on a spoke, the hub closed the connection with a
 * final code (4400–4499, for example 4401 when it refused the credentials or
 * 4408 when no handshake came in time); on the hub, `authenticate` threw.
 *
 * @example
 * ```ts
 * import { WebSocketHandshakeError } from "@alkdev/pubsub/websocket";
 *
 * const error = new WebSocketHandshakeError(4401, "Unauthorized");
 * console.log(error.code, error.closeCode); // "ERR_WEBSOCKET_HANDSHAKE" 4401
 * ```
 */
export class WebSocketHandshakeError extends PubSubError {
  /** The close code of the refused connection. */
  readonly closeCode: number;

  /**
   * Constructs a new instance.
   *
   * @param closeCode The close code.
   * @param reason The close reason.
   * @param options The cause, if any.
   */
  constructor(closeCode: number, reason: string, options?: ErrorOptions) {
    super(
      "ERR_WEBSOCKET_HANDSHAKE",
      `The WebSocket handshake failed with close code ${closeCode} (${JSON.stringify(reason)})`,
      options,
    );
    this.name = "WebSocketHandshakeError";
    this.closeCode = closeCode;
  }
}

/**
 * A control frame (a text frame starting with `[`) was not one the adapter
 * knows, or data came before the handshake finished.
 *
 * @example
 * ```ts
 * import { WebSocketProtocolError } from "@alkdev/pubsub/websocket";
 *
 * console.log(new WebSocketProtocolError('Unknown control frame "[\\"x\\"]"').code); // "ERR_WEBSOCKET_PROTOCOL"
 * ```
 */
export class WebSocketProtocolError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_WEBSOCKET_PROTOCOL", message, options);
    this.name = "WebSocketProtocolError";
  }
}

/**
 * The peer sent nothing within the heartbeat's interval plus timeout, so its
 * socket was closed with 4000.
 *
 * @example
 * ```ts
 * import { WebSocketHeartbeatError } from "@alkdev/pubsub/websocket";
 *
 * console.log(new WebSocketHeartbeatError(5000).message); // "The peer did not answer a ping within 5000 ms"
 * ```
 */
export class WebSocketHeartbeatError extends PubSubError {
  /** The heartbeat timeout, in ms. */
  readonly timeout: number;

  /**
   * Constructs a new instance.
   *
   * @param timeout The heartbeat timeout, in ms.
   */
  constructor(timeout: number) {
    super("ERR_WEBSOCKET_HEARTBEAT_TIMEOUT", `The peer did not answer a ping within ${timeout} ms`);
    this.name = "WebSocketHeartbeatError";
    this.timeout = timeout;
  }
}

/**
 * A send would have passed the connection's send budget (`highWaterMark`):
 * the peer reads more slowly than frames are sent. The budget counts the
 * socket's `bufferedAmount` plus `frameOverhead` bytes per frame in flight.
 * Under the `"close"` policy the socket was closed with 4013; under `"drop"`
 * frames are being dropped.
 *
 * @example
 * ```ts
 * import { WebSocketBackpressureError } from "@alkdev/pubsub/websocket";
 *
 * const error = new WebSocketBackpressureError(9_000_000, 8_388_608, "close");
 * console.log(error.code, error.bufferedAmount); // "ERR_WEBSOCKET_BACKPRESSURE" 9000000
 * ```
 */
export class WebSocketBackpressureError extends PubSubError {
  /** The socket's `bufferedAmount` when the limit was passed. */
  readonly bufferedAmount: number;
  /** The high-water mark (the send budget), in bytes. */
  readonly highWaterMark: number;
  /** What the frames in flight would have cost with this one: bytes plus the per-frame overhead. */
  readonly cost: number;
  /** Frames in flight when the limit was passed. */
  readonly frames: number;

  /**
   * Constructs a new instance.
   *
   * @param bufferedAmount The socket's `bufferedAmount`.
   * @param highWaterMark The high-water mark.
   * @param policy What the adapter did.
   * @param cost The cost with the refused frame. @default {bufferedAmount}
   * @param frames Frames in flight. @default {0}
   */
  constructor(
    bufferedAmount: number,
    highWaterMark: number,
    policy: "close" | "drop",
    cost = bufferedAmount,
    frames = 0,
  ) {
    super(
      "ERR_WEBSOCKET_BACKPRESSURE",
      `The peer reads too slowly: ${bufferedAmount} bytes in ${frames} frames are buffered, costing ${cost} bytes ` +
        `with the next frame, over the high-water mark of ${highWaterMark}; ${
          policy === "close" ? "closing the connection" : "dropping events until it drains"
        }`,
    );
    this.name = "WebSocketBackpressureError";
    this.bufferedAmount = bufferedAmount;
    this.highWaterMark = highWaterMark;
    this.cost = cost;
    this.frames = frames;
  }
}

/**
 * The peer sent frames faster than an inbound rate limit allows (frames or
 * bytes per second, before or after the handshake), so the connection was
 * closed with 4008.
 *
 * @example
 * ```ts
 * import { WebSocketRateLimitError } from "@alkdev/pubsub/websocket";
 *
 * const error = new WebSocketRateLimitError("frames", false);
 * console.log(error.code, error.limit); // "ERR_WEBSOCKET_RATE_LIMIT" "frames"
 * ```
 */
export class WebSocketRateLimitError extends PubSubError {
  /** The limit passed: `"frames"` or `"bytes"` per second, or `"backlog"` (too many frames waiting their turn). */
  readonly limit: "frames" | "bytes" | "backlog";
  /** Whether it happened before the handshake was done. */
  readonly handshake: boolean;

  /**
   * Constructs a new instance.
   *
   * @param limit The limit passed.
   * @param handshake Whether before the handshake was done.
   */
  constructor(limit: "frames" | "bytes" | "backlog", handshake: boolean) {
    super(
      "ERR_WEBSOCKET_RATE_LIMIT",
      `The peer passed the inbound ${limit === "backlog" ? "backlog" : `${limit} per second`} limit${
        handshake ? " before the handshake" : ""
      }: closing the connection`,
    );
    this.name = "WebSocketRateLimitError";
    this.limit = limit;
    this.handshake = handshake;
  }
}

/**
 * The outbox that holds events while the socket is not open was full, so the
 * oldest event was dropped. Reported once per disconnected period.
 *
 * @example
 * ```ts
 * import { WebSocketOutboxOverflowError } from "@alkdev/pubsub/websocket";
 *
 * console.log(new WebSocketOutboxOverflowError(1024).code); // "ERR_WEBSOCKET_OUTBOX_OVERFLOW"
 * ```
 */
export class WebSocketOutboxOverflowError extends PubSubError {
  /** The outbox size, in events. */
  readonly outboxSize: number;

  /**
   * Constructs a new instance.
   *
   * @param outboxSize The outbox size, in events.
   */
  constructor(outboxSize: number) {
    super(
      "ERR_WEBSOCKET_OUTBOX_OVERFLOW",
      `The outbox of ${outboxSize} events is full: dropping the oldest events`,
    );
    this.name = "WebSocketOutboxOverflowError";
    this.outboxSize = outboxSize;
  }
}
