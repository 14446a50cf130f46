/**
 * The structural socket types the adapter accepts, so it needs no runtime
 * dependency: a Deno `WebSocket` (client or from `Deno.upgradeWebSocket`), a
 * browser `WebSocket`, and the npm `ws` package's `WebSocket` all fit.
 *
 * @module
 */

/**
 * The event a socket passes to its listeners: `data` for `"message"`, `code`
 * and `reason` for `"close"`.
 *
 * @example
 * ```ts
 * import type { WebSocketEventLike } from "@alkdev/pubsub/websocket";
 *
 * const onMessage = (event: WebSocketEventLike): void => console.log(event.data);
 * ```
 */
export interface WebSocketEventLike {
  /** The message data (`"message"` events): a string, an `ArrayBuffer` or a byte view. */
  readonly data?: unknown;
  /** The close code (`"close"` events). */
  readonly code?: number;
  /** The close reason (`"close"` events). */
  readonly reason?: string;
}

/**
 * The part of the WebSocket API the adapter uses. The global `WebSocket` of
 * Deno and browsers, and `ws`'s `WebSocket` on Node, satisfy it.
 *
 * @example Wrapping a socket accepted by Deno
 * ```ts ignore
 * import { createWebSocketEventTarget, type WebSocketLike } from "@alkdev/pubsub/websocket";
 *
 * Deno.serve((request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   const like: WebSocketLike = socket;
 *   createWebSocketEventTarget(like);
 *   return response;
 * });
 * ```
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Set to `"arraybuffer"` by the adapter so binary frames never arrive as `Blob`s. */
  binaryType: string;
  /** Sends one frame: text for a string, binary otherwise. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Adds a listener for `"open"`, `"message"`, `"close"` or `"error"`. */
  addEventListener(type: string, listener: (event: WebSocketEventLike) => void): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: string, listener: (event: WebSocketEventLike) => void): void;
}

/**
 * A WebSocket constructor: the global `WebSocket` of Deno and browsers, or
 * `ws`'s `WebSocket` on Node 20 (which has no global one).
 *
 * @example Node
 * ```ts ignore
 * import { connectWebSocketEventTarget } from "@alkdev/pubsub/websocket";
 *
 * const spoke = connectWebSocketEventTarget("ws://127.0.0.1:8080", {
 *   WebSocket: (await import("ws")).WebSocket,
 * });
 * ```
 */
export type WebSocketConstructorLike = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `readyState` values. @internal */
export const CONNECTING = 0;
/** @internal */
export const OPEN = 1;
/** @internal */
export const CLOSING = 2;
/** @internal */
export const CLOSED = 3;

/** A data frame as it goes on the wire: text, or bytes. @internal */
export type Frame = string | Uint8Array;
