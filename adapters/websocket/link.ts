/**
 * One WebSocket connection's protocol machinery, shared by the hub, its
 * connections and the spoke: frames, handshake, heartbeat, size limit,
 * backpressure and the outbox. Not exported from the package.
 *
 * Frames (see docs/architecture/websocket.md):
 * - data: the codec's encoding of one envelope (JSON text by default);
 * - control: a JSON array text frame whose first element names it:
 *   `["ping"]`, `["pong"]`, `["auth", credentials]`, `["ack"]`.
 *
 * @module
 */

import { type Codec, decodeEnvelope, outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, FrameTooLargeError, type PubSubError } from "../../core/errors.ts";
import { describe, topicFor } from "../../core/topic.ts";
import type { EnvelopeEvent, EventEnvelope } from "../../core/types.ts";
import { CloseCode } from "./close_codes.ts";
import {
  WebSocketBackpressureError,
  WebSocketHandshakeError,
  WebSocketHeartbeatError,
  WebSocketOutboxOverflowError,
  WebSocketProtocolError,
} from "./errors.ts";
import type { ResolvedCommonOptions, WebSocketCloseInfo } from "./options.ts";
import { CLOSED, CLOSING, OPEN, type WebSocketEventLike, type WebSocketLike } from "./socket.ts";

/** The connection's state. */
export type LinkState = "connecting" | "handshake" | "open" | "closed";

/** A data frame as it goes on the wire. */
export type Frame = string | Uint8Array;

const PING = '["ping"]';
const PONG = '["pong"]';
const ACK = '["ack"]';
const BRACKET = 91; // "["

/** A bounded FIFO of frames waiting for the socket to open. */
export class Outbox {
  #items: Frame[] = [];
  #head = 0;
  #reported = false;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a frame, dropping the oldest when full; returns an error to report the first time it drops. */
  push(frame: Frame): PubSubError | undefined {
    this.#items.push(frame);
    if (this.length <= this.size) return undefined;
    this.#items[this.#head++] = "";
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#reported) return undefined;
    this.#reported = true;
    return new WebSocketOutboxOverflowError(this.size);
  }

  /** Removes and returns every frame, oldest first. */
  drain(): Frame[] {
    const items = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#reported = false;
    return items;
  }
}

/** What a link needs beyond the common options. */
export interface LinkConfig extends ResolvedCommonOptions {
  /** Hub side: decides on the credentials of the `["auth", …]` frame. */
  authenticate?: (credentials: unknown) => boolean | Promise<boolean>;
  /** Spoke side: produces the credentials sent in the first frame. */
  credentials?: () => unknown;
  /** Bounds the whole handshake on either side. */
  handshakeTimeout: number;
  /** Where frames wait while the socket is not open; the spoke shares one across reconnects. */
  outbox: Outbox;
}

/** Callbacks from a link to its owner. */
export interface LinkCallbacks {
  onOpen(link: Link): void;
  onEnvelope(envelope: EventEnvelope, frame: Frame, link: Link): void;
  onClose(info: WebSocketCloseInfo, link: Link): void;
  onError(error: PubSubError): void;
}

/** Drives one socket. Construct it last: if the socket is already open it starts at once. */
export class Link {
  readonly socket: WebSocketLike;
  #config: LinkConfig;
  #callbacks: LinkCallbacks;
  #state: LinkState = "connecting";
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #handshakeStarted = false;
  #dropping = false;
  #socketClosed: Promise<void>;
  #resolveSocketClosed!: () => void;

  constructor(socket: WebSocketLike, config: LinkConfig, callbacks: LinkCallbacks) {
    this.socket = socket;
    this.#config = config;
    this.#callbacks = callbacks;
    this.#socketClosed = new Promise((resolve) => (this.#resolveSocketClosed = resolve));
    try {
      socket.binaryType = "arraybuffer";
    } catch {
      // Some sockets fix their binary type; Blob frames are then reported as protocol errors.
    }
    socket.addEventListener("open", this.#onSocketOpen);
    socket.addEventListener("message", this.#onMessage);
    socket.addEventListener("close", this.#onSocketClose);
    socket.addEventListener("error", this.#onSocketError);
    if (socket.readyState === OPEN) this.#onSocketOpen();
    else if (socket.readyState === CLOSING || socket.readyState === CLOSED) {
      queueMicrotask(() => this.#finish({ code: 1006, reason: "The socket was already closed" }));
      this.#resolveSocketClosed();
    }
  }

  /** The connection's state. */
  get state(): LinkState {
    return this.#state;
  }

  /** Settles once the socket itself has closed (after `close()`, the peer's close frame or a drop). */
  get socketClosed(): Promise<void> {
    return this.#socketClosed;
  }

  /** Sends a data frame now if open, queues it if not open yet, drops it once closed. */
  send(frame: Frame): void {
    if (this.#state === "open") this.#write(frame);
    else if (this.#state !== "closed") this.#queue(frame);
  }

  /** Closes with `code`; the owner's `onClose` runs at once, without waiting for the peer. */
  close(code: number = CloseCode.Normal, reason = "", error?: PubSubError): void {
    if (this.#state === "closed") return;
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closing.
    }
    this.#finish(error === undefined ? { code, reason } : { code, reason, error });
  }

  #queue(frame: Frame): void {
    const overflow = this.#config.outbox.push(frame);
    if (overflow !== undefined) this.#callbacks.onError(overflow);
  }

  #write(frame: Frame): void {
    const socket = this.socket;
    const buffered = socket.bufferedAmount;
    if (buffered > this.#config.highWaterMark) {
      if (this.#config.backpressure === "close") {
        const error = new WebSocketBackpressureError(buffered, this.#config.highWaterMark, "close");
        this.#callbacks.onError(error);
        this.close(CloseCode.SlowConsumer, "Slow consumer", error);
        return;
      }
      if (!this.#dropping) {
        this.#dropping = true;
        this.#callbacks.onError(new WebSocketBackpressureError(buffered, this.#config.highWaterMark, "drop"));
      }
      return;
    }
    this.#dropping = false;
    try {
      socket.send(frame);
    } catch {
      // The socket is closing; its close event follows.
    }
  }

  #sendControl(text: string): void {
    try {
      this.socket.send(text);
    } catch {
      // The socket is closing; its close event follows.
    }
  }

  #onSocketOpen = (): void => {
    if (this.#state !== "connecting") return;
    this.#startHeartbeat();
    const config = this.#config;
    if (config.authenticate === undefined && config.credentials === undefined) {
      this.#open();
      return;
    }
    this.#state = "handshake";
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = undefined;
      this.close(CloseCode.HandshakeTimeout, "Handshake timeout");
    }, config.handshakeTimeout);
    if (config.credentials !== undefined) this.#sendCredentials(config.credentials);
  };

  #sendCredentials(credentials: () => unknown): void {
    Promise.resolve()
      .then(credentials)
      .then((value) => {
        if (this.#state !== "handshake") return;
        this.#sendControl(JSON.stringify(["auth", value ?? null]));
      })
      .catch((cause) => {
        if (this.#state === "closed") return;
        const error = new WebSocketHandshakeError(CloseCode.BadRequest, "Cannot send the credentials", { cause });
        this.#callbacks.onError(error);
        this.close(CloseCode.BadRequest, "Cannot send the credentials", error);
      });
  }

  #open(): void {
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#state = "open";
    const queued = this.#config.outbox.drain();
    for (let i = 0; i < queued.length && this.#state === "open"; i++) this.#write(queued[i]);
    if (this.#state === "open") this.#callbacks.onOpen(this);
  }

  #startHeartbeat(): void {
    const heartbeat = this.#config.heartbeat;
    if (heartbeat === undefined) return;
    this.#pingTimer = setInterval(() => {
      if (this.#pongTimer !== undefined) return; // still waiting for the last one
      this.#sendControl(PING);
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = undefined;
        const error = new WebSocketHeartbeatError(heartbeat.timeout);
        this.#callbacks.onError(error);
        this.close(CloseCode.HeartbeatTimeout, "Heartbeat timeout", error);
      }, heartbeat.timeout);
    }, heartbeat.interval);
  }

  #onMessage = (event: WebSocketEventLike): void => {
    if (this.#state === "closed") return;
    if (this.#pongTimer !== undefined) {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    }
    let data = event.data;
    const max = this.#config.maxMessageBytes;
    if (typeof data === "string") {
      if (data.length * 3 > max) {
        const size = utf8Length(data);
        if (size > max) {
          this.#tooLarge(size);
          return;
        }
      }
      if (data.charCodeAt(0) === BRACKET) {
        this.#onControl(data);
        return;
      }
    } else {
      if (data instanceof ArrayBuffer) data = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else {
        this.#callbacks.onError(
          new WebSocketProtocolError(`Cannot read a frame of ${describe(data)}: expected text or an ArrayBuffer`),
        );
        return;
      }
      if ((data as Uint8Array).byteLength > max) {
        this.#tooLarge((data as Uint8Array).byteLength);
        return;
      }
    }
    const frame = data as Frame;
    if (this.#state === "handshake" && this.#config.authenticate !== undefined) {
      const error = new WebSocketProtocolError("Received a data frame before the handshake finished");
      this.#callbacks.onError(error);
      this.close(CloseCode.Unauthorized, "Unauthorized", error);
      return;
    }
    let envelope: EventEnvelope;
    try {
      envelope = decodeEnvelope(frame, this.#config.codec);
    } catch (error) {
      this.#callbacks.onError(
        error instanceof EnvelopeError ? error : new EnvelopeError("Cannot decode a frame", { cause: error }),
      );
      return;
    }
    this.#callbacks.onEnvelope(envelope, frame, this);
  };

  #tooLarge(size: number): void {
    const error = new FrameTooLargeError(size, this.#config.maxMessageBytes);
    this.#callbacks.onError(error);
    this.close(CloseCode.MessageTooBig, "Message too big", error);
  }

  #onControl(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (cause) {
      this.#badControl(text, cause);
      return;
    }
    const tag = Array.isArray(message) ? message[0] : undefined;
    switch (tag) {
      case "ping":
        this.#sendControl(PONG);
        return;
      case "pong":
        return;
      case "ack":
        if (this.#state === "handshake" && this.#config.credentials !== undefined) this.#open();
        return;
      case "auth":
        this.#onAuth((message as unknown[])[1]);
        return;
      default:
        this.#badControl(text);
    }
  }

  #badControl(text: string, cause?: unknown): void {
    const error = new WebSocketProtocolError(`Unknown control frame ${describe(text)}`, { cause });
    this.#callbacks.onError(error);
    if (this.#state === "handshake" && this.#config.authenticate !== undefined) {
      this.close(CloseCode.BadRequest, "Bad request", error);
    }
  }

  #onAuth(credentials: unknown): void {
    const authenticate = this.#config.authenticate;
    if (authenticate === undefined) {
      // No authentication required: acknowledge so a spoke with credentials can proceed.
      this.#sendControl(ACK);
      return;
    }
    if (this.#handshakeStarted) {
      this.close(CloseCode.TooManyHandshakes, "Too many handshake messages");
      return;
    }
    this.#handshakeStarted = true;
    Promise.resolve()
      .then(() => authenticate(credentials))
      .then(
        (accepted) => {
          if (this.#state !== "handshake") return;
          if (accepted !== true) {
            this.close(CloseCode.Unauthorized, "Unauthorized");
            return;
          }
          this.#sendControl(ACK);
          this.#open();
        },
        (cause) => {
          if (this.#state === "closed") return;
          const error = new WebSocketHandshakeError(CloseCode.Unauthorized, "Unauthorized", { cause });
          this.#callbacks.onError(error);
          this.close(CloseCode.Unauthorized, "Unauthorized", error);
        },
      );
  }

  #onSocketClose = (event: WebSocketEventLike): void => {
    this.#detach();
    this.#resolveSocketClosed();
    // Deno reports a failed dial as code 0; the standard code for a dropped connection is 1006.
    const code = typeof event.code === "number" && event.code > 0 ? event.code : 1006;
    this.#finish({ code, reason: event.reason ?? "" });
  };

  #onSocketError = (): void => {
    // A close event always follows; it carries the code.
  };

  #detach(): void {
    const socket = this.socket;
    socket.removeEventListener("open", this.#onSocketOpen);
    socket.removeEventListener("message", this.#onMessage);
    socket.removeEventListener("close", this.#onSocketClose);
    socket.removeEventListener("error", this.#onSocketError);
  }

  #finish(info: WebSocketCloseInfo): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    if (this.#pongTimer !== undefined) clearTimeout(this.#pongTimer);
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#pingTimer = this.#pongTimer = this.#handshakeTimer = undefined;
    this.socket.removeEventListener("message", this.#onMessage);
    this.#callbacks.onClose(info, this);
  }
}

/** The UTF-8 length of a string, without allocating. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** The size in bytes of an outgoing frame, if over `max`; otherwise -1. */
export function oversize(frame: Frame, max: number): number {
  if (typeof frame !== "string") return frame.byteLength > max ? frame.byteLength : -1;
  if (frame.length * 3 <= max) return -1;
  const size = utf8Length(frame);
  return size > max ? size : -1;
}

/**
 * Encodes an event's envelope for the wire, checking that it is an envelope
 * for the event's topic and that it fits in `max` bytes.
 */
export function encodeEvent(event: EnvelopeEvent, codec: Codec, max: number): Frame {
  const frame = codec.encode(outgoingEnvelope(event.detail, event.type));
  if (typeof frame === "string" && frame.charCodeAt(0) === BRACKET) {
    throw new TypeError(`The codec produced text starting with "[", which is reserved for control frames`);
  }
  const size = oversize(frame, max);
  if (size !== -1) throw new FrameTooLargeError(size, max);
  return frame;
}

/** The local event for a received envelope. */
export function toEvent(envelope: EventEnvelope): EnvelopeEvent {
  return new CustomEvent(topicFor(envelope.type, envelope.id), { detail: envelope }) as EnvelopeEvent;
}
