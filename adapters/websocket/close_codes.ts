/**
 * The close codes the adapter sends. Codes 4400–4499 mean "the hub refused
 * this client": a spoke that receives one stops and does not reconnect. Every
 * other code is followed by a reconnect.
 *
 * Browsers only let a page close a socket with 1000 or 3000–4999, so the codes
 * that mirror a standard 1xxx code use 4xxx with the same last digits
 * (4009 for 1009, 4013 for 1013).
 *
 * @module
 */

/**
 * The close codes, by name. See docs/architecture/websocket.md.
 *
 * @example Telling a refused spoke from a dropped one
 * ```ts
 * import { CloseCode, isFinalCloseCode } from "@alkdev/pubsub/websocket";
 *
 * console.log(CloseCode.Unauthorized, isFinalCloseCode(CloseCode.Unauthorized)); // 4401 true
 * console.log(isFinalCloseCode(CloseCode.HeartbeatTimeout)); // false
 * ```
 */
export const CloseCode = {
  /** `close()` on either side, or the hub shutting down. The spoke reconnects unless it closed itself. */
  Normal: 1000,
  /** The peer sent nothing, not even a pong, within the heartbeat's interval plus timeout. */
  HeartbeatTimeout: 4000,
  /** The peer passed an inbound rate limit: frames or bytes per second, or its backlog (mirrors 1008 "policy violation"). */
  RateLimited: 4008,
  /** A frame was larger than `maxMessageBytes` (mirrors 1009 "message too big"). */
  MessageTooBig: 4009,
  /** The peer read too slowly: a send would pass the send budget, `highWaterMark` (mirrors 1013 "try again later"). */
  SlowConsumer: 4013,
  /** A malformed or unexpected frame during the handshake, or `maxInvalidFrames` invalid frames within `invalidFrameWindow`. Final. */
  BadRequest: 4400,
  /** `authenticate` refused the credentials (or threw). Final. */
  Unauthorized: 4401,
  /** No handshake within `handshakeTimeout`. Final. */
  HandshakeTimeout: 4408,
  // One-line JSDoc on purpose: deno pack's .d.ts puts `readonly` before the comment, and a line break there breaks it.
  /** Another protocol version: a hello for a version other than 2, or a version 1 peer (`["auth", …]`, or data first). Final. */
  UnsupportedProtocol: 4426,
  /** A second handshake frame on one connection. Final. */
  TooManyHandshakes: 4429,
} as const;

/**
 * Whether a spoke stops for good on this close code (4400–4499) instead of
 * reconnecting.
 *
 * @param code The close code.
 * @returns `true` for 4400–4499.
 *
 * @example
 * ```ts
 * import { isFinalCloseCode } from "@alkdev/pubsub/websocket";
 *
 * console.log(isFinalCloseCode(4408), isFinalCloseCode(1006)); // true false
 * ```
 */
export function isFinalCloseCode(code: number): boolean {
  return code >= 4400 && code <= 4499;
}
