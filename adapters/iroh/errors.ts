/**
 * Errors and close codes of the iroh adapter.
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";

/**
 * The QUIC application error codes the adapter closes a connection with. The
 * peer sees them in its own close reason, and an adapter on the other side
 * maps them back to typed errors.
 *
 * | code | name | meaning |
 * | ---: | --- | --- |
 * | 0 | `normal` | graceful close: both sides finished their stream |
 * | 1 | `frameTooLarge` | a length prefix exceeded `maxFrameBytes` |
 * | 2 | `protocol` | the stream ended mid-frame, or the peer broke the protocol |
 * | 3 | `refused` | the hub's `allow` refused the spoke's EndpointId |
 * | 4 | `timeout` | the handshake or a graceful close did not finish in time |
 * | 5 | `error` | a local failure (the codec or the binding threw) |
 * | 6 | `unsupportedProtocol` | the peer speaks another protocol version (hub/spoke speak 2, the per-connection targets 1) |
 * | 7 | `slowConsumer` | the hub's outbox for the connection passed `maxOutboxBytes` |
 * | 8 | `rateLimited` | the spoke sent faster than the hub's `inboundLimits`, or too many invalid frames |
 *
 * Codes 3 and 6 are final: a reconnecting spoke stops on them
 * ({@linkcode isFinalIrohCloseCode}).
 *
 * @example Reading the code from a close event
 * ```ts
 * import { IROH_CLOSE_CODES } from "@alkdev/pubsub/iroh";
 *
 * console.log(IROH_CLOSE_CODES.refused); // 3
 * ```
 */
export const IROH_CLOSE_CODES: {
  readonly normal: 0;
  readonly frameTooLarge: 1;
  readonly protocol: 2;
  readonly refused: 3;
  readonly timeout: 4;
  readonly error: 5;
  readonly unsupportedProtocol: 6;
  readonly slowConsumer: 7;
  readonly rateLimited: 8;
} = Object.freeze({
  normal: 0,
  frameTooLarge: 1,
  protocol: 2,
  refused: 3,
  timeout: 4,
  error: 5,
  unsupportedProtocol: 6,
  slowConsumer: 7,
  rateLimited: 8,
});

/**
 * Whether a reconnecting spoke stops for good on this close code instead of
 * dialing again: `refused` (3) and `unsupportedProtocol` (6), the
 * counterparts of the WebSocket 44xx codes.
 *
 * @param code The application close code, if any.
 * @returns `true` for 3 and 6.
 *
 * @example
 * ```ts
 * import { isFinalIrohCloseCode } from "@alkdev/pubsub/iroh";
 *
 * console.log(isFinalIrohCloseCode(3), isFinalIrohCloseCode(0)); // true false
 * ```
 */
export function isFinalIrohCloseCode(code: number | undefined): boolean {
  return code === IROH_CLOSE_CODES.refused || code === IROH_CLOSE_CODES.unsupportedProtocol;
}

/**
 * The connection or its stream failed: lost, timed out, reset, or closed by
 * the peer with a non-zero code. `closeCode` holds the application code when
 * the peer (or this side) closed with one; `cause` holds the binding's error.
 *
 * @example
 * ```ts
 * import { IrohConnectionError } from "@alkdev/pubsub/iroh";
 *
 * const error = new IrohConnectionError("Connection lost", 2);
 * console.log(error.code, error.closeCode); // "ERR_IROH_CONNECTION" 2
 * ```
 */
export class IrohConnectionError extends PubSubError {
  /** The application close code, if the connection was closed with one. */
  readonly closeCode: number | undefined;

  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param closeCode The application close code, if any.
   * @param options The cause, if any.
   */
  constructor(message: string, closeCode?: number, options?: ErrorOptions) {
    super("ERR_IROH_CONNECTION", message, options);
    this.name = "IrohConnectionError";
    this.closeCode = closeCode;
  }
}

/**
 * The hub refused the connection: its `allow(remoteId)` returned false (or
 * threw). Raised on the hub by `createHubIrohEventTarget`, and on the spoke by
 * `createSpokeIrohEventTarget` when the hub closes with code 3.
 *
 * @example
 * ```ts
 * import { IrohPeerRefusedError } from "@alkdev/pubsub/iroh";
 *
 * const error = new IrohPeerRefusedError("abc123", 'Refused endpoint "abc123": not allowed');
 * console.log(error.code, error.remoteId); // "ERR_IROH_PEER_REFUSED" "abc123"
 * ```
 */
export class IrohPeerRefusedError extends PubSubError {
  /** The EndpointId of the other side of the refused connection. */
  readonly remoteId: string;

  /**
   * Constructs a new instance.
   *
   * @param remoteId The EndpointId of the other side.
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(remoteId: string, message: string, options?: ErrorOptions) {
    super("ERR_IROH_PEER_REFUSED", message, options);
    this.name = "IrohPeerRefusedError";
    this.remoteId = remoteId;
  }
}

/**
 * Thrown by `dispatchEvent` (so by `publish`) when the outbox already holds
 * `maxOutboxBytes` not yet written to the stream: the peer or the network is
 * slower than the publisher. The event was neither sent nor delivered locally;
 * the connection stays open, so the caller may retry after `flush()`.
 *
 * @example
 * ```ts
 * import { IrohOutboxFullError } from "@alkdev/pubsub/iroh";
 *
 * const error = new IrohOutboxFullError(9_000_000, 8_388_608);
 * console.log(error.code, error.bufferedBytes, error.limit); // "ERR_IROH_OUTBOX_FULL" 9000000 8388608
 * ```
 */
export class IrohOutboxFullError extends PubSubError {
  /** Bytes waiting in the outbox. */
  readonly bufferedBytes: number;
  /** The limit, in bytes. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param bufferedBytes Bytes waiting in the outbox.
   * @param limit The limit, in bytes.
   */
  constructor(bufferedBytes: number, limit: number) {
    super(
      "ERR_IROH_OUTBOX_FULL",
      `Outbox holds ${bufferedBytes} bytes, at or over the limit of ${limit} bytes: the peer is not keeping up`,
    );
    this.name = "IrohOutboxFullError";
    this.bufferedBytes = bufferedBytes;
    this.limit = limit;
  }
}

/**
 * The reconnecting spoke's outbox (events published while it has no open
 * connection) was full, so the oldest event was dropped. Reported once per
 * disconnected period through `onError`; the publish itself succeeds.
 *
 * @example
 * ```ts
 * import { IrohOutboxOverflowError } from "@alkdev/pubsub/iroh";
 *
 * const error = new IrohOutboxOverflowError(1024);
 * console.log(error.code, error.limit); // "ERR_IROH_OUTBOX_OVERFLOW" 1024
 * ```
 */
export class IrohOutboxOverflowError extends PubSubError {
  /** The outbox size, in events. */
  readonly limit: number;

  /**
   * Constructs a new instance.
   *
   * @param limit The outbox size, in events.
   */
  constructor(limit: number) {
    super(
      "ERR_IROH_OUTBOX_OVERFLOW",
      `The spoke's outbox holds ${limit} events while disconnected: dropping the oldest`,
    );
    this.name = "IrohOutboxOverflowError";
    this.limit = limit;
  }
}

/**
 * The peer broke the routed protocol: an unknown or malformed control frame.
 * Reported through `onError`; after the handshake the connection stays open.
 *
 * @example
 * ```ts
 * import { IrohProtocolError } from "@alkdev/pubsub/iroh";
 *
 * const error = new IrohProtocolError('Unknown control frame ["nope"]');
 * console.log(error.code); // "ERR_IROH_PROTOCOL"
 * ```
 */
export class IrohProtocolError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param message The message.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_IROH_PROTOCOL", message, options);
    this.name = "IrohProtocolError";
  }
}
