/**
 * Text frames to the npm `ws` package's server sockets (the hub on Node), sent
 * as UTF-8 bytes with `{ binary: false }`: still text frames on the wire, but
 * encoded once per frame instead of once per socket. `ws` writes a string by
 * measuring it (`Buffer.byteLength`) and encoding it again for each socket;
 * a hub sends the same frame text to every subscribed socket, so the bytes of
 * the last text are kept (one entry) and handed to each of them. Not exported
 * from the package.
 *
 * @module
 */

import type { WebSocketLike } from "./socket.ts";

/** The part of Node's `Buffer` used here. */
interface BufferConstructorLike {
  from(text: string): Uint8Array;
}

/** `ws`'s `send(data, options)`: `binary: false` sends bytes as a text frame. */
interface WsSocket {
  send(data: Uint8Array, options: { binary: boolean }): void;
}

const NodeBuffer = (globalThis as { Buffer?: BufferConstructorLike }).Buffer;

/** The options of every text frame sent as bytes: `ws` copies them, never changes them. */
const TEXT: { readonly binary: boolean } = Object.freeze({ binary: false });

let lastText = "";
let lastBytes: Uint8Array | undefined;

/**
 * Whether `socket` is a server-side socket of the npm `ws` package (its
 * `_sender` and `_isServer`, there since ws 1), on a runtime with `Buffer`.
 * Client sockets are left alone: `ws` masks each of their frames anyway.
 */
export function isWsServerSocket(socket: WebSocketLike): boolean {
  const candidate = socket as { _sender?: unknown; _isServer?: unknown };
  return NodeBuffer !== undefined && candidate._isServer === true && typeof candidate._sender === "object" &&
    candidate._sender !== null;
}

/**
 * Sends `text` to a socket for which {@linkcode isWsServerSocket} holds, as
 * a text frame of its UTF-8 bytes. The bytes are shared with the next call
 * for the same text (`ws` only reads them).
 */
export function sendWsText(socket: WebSocketLike, text: string): void {
  if (text !== lastText || lastBytes === undefined) {
    lastBytes = NodeBuffer!.from(text);
    lastText = text;
  }
  (socket as unknown as WsSocket).send(lastBytes, TEXT);
}
