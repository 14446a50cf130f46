/**
 * `createWebSocketEventTarget`: an event target over one open or accepted
 * socket, on either end of the connection.
 *
 * @module
 */

import { jsonCodec } from "../../core/envelope.ts";
import { PubSubClosedError, type PubSubError } from "../../core/errors.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import type { EnvelopeEvent, EventEnvelope, SubscriptionReadiness } from "../../core/types.ts";
import { CloseCode } from "./close_codes.ts";
import { encodeEvent, type Frame, Link, type LinkConfig, type LinkState, Outbox, toEvent } from "./link.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  positive,
  resolveCommonOptions,
  type ResolvedCommonOptions,
  type WebSocketCloseInfo,
  type WebSocketCommonOptions,
} from "./options.ts";
import type { WebSocketLike } from "./socket.ts";

/**
 * The state of one connection: `"connecting"` until the socket opens,
 * `"handshake"` while credentials are checked, `"open"`, then `"closed"`.
 *
 * @example
 * ```ts
 * import type { WebSocketConnectionState } from "@alkdev/pubsub/websocket";
 *
 * const state: WebSocketConnectionState = "open";
 * ```
 */
export type WebSocketConnectionState = LinkState;

/**
 * Decides on a spoke's credentials (the second element of its first frame,
 * `["auth", credentials]`). Return `true` to accept; anything else, or a
 * throw, closes the connection with 4401.
 *
 * @typeParam TRequest The upgrade request type, e.g. `Request` on Deno.
 *
 * @example
 * ```ts
 * import type { Authenticate } from "@alkdev/pubsub/websocket";
 *
 * const authenticate: Authenticate<Request> = (credentials, request) =>
 *   (credentials as { token?: string })?.token === "secret" && new URL(request.url).pathname === "/events";
 * ```
 */
export type Authenticate<TRequest = unknown> = (
  credentials: unknown,
  request: TRequest,
) => boolean | Promise<boolean>;

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
   * Requires a handshake: the peer's first frame must be `["auth", credentials]`,
   * which this function accepts or refuses. Without it, no handshake is
   * required (a peer that sends one anyway is acknowledged).
   */
  authenticate?: Authenticate<TRequest>;
  /**
   * Milliseconds from the socket opening to the end of the handshake
   * (credentials received and `authenticate` settled); past it, the socket
   * closes with 4408.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
}

/**
 * Options for {@linkcode createWebSocketEventTarget}.
 *
 * @typeParam TRequest The upgrade request type, passed to `authenticate`.
 *
 * @example
 * ```ts
 * import type { WebSocketEventTargetOptions } from "@alkdev/pubsub/websocket";
 *
 * const hubSide: WebSocketEventTargetOptions<Request> = { authenticate: (c) => c === "t" };
 * const spokeSide: WebSocketEventTargetOptions = { credentials: () => "t" };
 * ```
 */
export interface WebSocketEventTargetOptions<TRequest = unknown>
  extends WebSocketCommonOptions, WebSocketAcceptOptions<TRequest> {
  /** The upgrade request, passed to `authenticate`. */
  request?: TRequest;
  /**
   * Dialing side: credentials to send in the first frame, `["auth", credentials]`
   * (JSON), before any data. A function is called for each connection and may
   * return a promise. The socket counts as open once the peer answers `["ack"]`.
   */
  credentials?: unknown;
}

/**
 * An event target over one WebSocket. `dispatchEvent` delivers to local
 * listeners and sends the envelope to the peer; envelopes from the peer are
 * validated and delivered to local listeners.
 *
 * Reserved, non-topic event names (none contains `:`): `"open"` (detail
 * `undefined`), `"close"` (detail {@linkcode WebSocketCloseInfo}) and
 * `"error"` (detail the {@linkcode PubSubError}). `"close"` is dispatched
 * once, when the socket closes for any reason (`close()` included); there is
 * no reconnect, so it is final, and a pub/sub created over the target ends
 * its subscriptions then (see `CLOSE_EVENT`).
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWebSocketEventTarget } from "@alkdev/pubsub/websocket";
 *
 * const eventTarget = createWebSocketEventTarget(new WebSocket("ws://127.0.0.1:8080"));
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 * await eventTarget.ready("ping:1");
 * pubsub.publish("ping", "1", 1);
 * ```
 */
export class WebSocketEventTarget extends TransportEventTarget implements SubscriptionReadiness {
  #options: ResolvedCommonOptions;
  #link: Link;
  #closed: Promise<WebSocketCloseInfo>;
  #resolveClosed!: (info: WebSocketCloseInfo) => void;
  #info: WebSocketCloseInfo | undefined;

  /**
   * Wraps `socket`; prefer {@linkcode createWebSocketEventTarget}.
   *
   * @param socket An open or connecting socket.
   * @param options Limits, heartbeat, handshake and error handling.
   */
  constructor(socket: WebSocketLike, options: WebSocketEventTargetOptions<unknown> = {}) {
    super(options);
    this.#options = resolveCommonOptions(options, jsonCodec);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const config: LinkConfig = {
      ...this.#options,
      handshakeTimeout: positive("handshakeTimeout", options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT),
      outbox: new Outbox(this.#options.outboxSize),
    };
    const authenticate = options.authenticate;
    if (authenticate !== undefined) config.authenticate = (credentials) => authenticate(credentials, options.request);
    if (options.credentials !== undefined) config.credentials = credentialsFunction(options.credentials);
    this.#link = new Link(socket, config, {
      onOpen: () => this.emit("open"),
      onEnvelope: (envelope: EventEnvelope, _frame: Frame) => this.dispatchLocal(toEvent(envelope)),
      onClose: (info) => {
        if (this.#info !== undefined) return; // the link reports its close once; "close" is final
        this.#info = info;
        this.emitClose(info);
        this.#link.socketClosed.then(() => this.#resolveClosed(info));
      },
      onError: (error) => this.#reportError(error),
    });
  }

  /** The socket this target drives. */
  get socket(): WebSocketLike {
    return this.#link.socket;
  }

  /** The connection's state. */
  get state(): WebSocketConnectionState {
    return this.#link.state;
  }

  /** Settles with the close code and reason once the socket has closed. */
  get closed(): Promise<WebSocketCloseInfo> {
    return this.#closed;
  }

  /**
   * Delivers `event` to local listeners and sends its envelope to the peer
   * (queued while connecting, dropped once closed).
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxMessageBytes`; nothing is delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    const frame = encodeEvent(event, this.#options.codec, this.#options.maxMessageBytes);
    const result = this.dispatchLocal(event);
    this.#link.send(frame);
    return result;
  }

  /**
   * Settles once the connection is open (handshake included); rejects with
   * {@linkcode PubSubClosedError} if it closes first.
   *
   * @param _topic Unused: every topic is live once the connection is open.
   */
  ready(_topic: string): Promise<void> {
    if (this.#link.state === "open") return Promise.resolve();
    if (this.#link.state === "closed") return Promise.reject(closedError(this.#info));
    return new Promise((resolve, reject) => {
      const onOpen = () => {
        this.removeEventListener("close", onClose);
        resolve();
      };
      const onClose = () => {
        this.removeEventListener("open", onOpen);
        reject(closedError(this.#info));
      };
      this.addEventListener("open", onOpen, { once: true });
      this.addEventListener("close", onClose, { once: true });
    });
  }

  /**
   * Closes the socket. Idempotent.
   *
   * @param code The close code. @default {1000}
   * @param reason The close reason. @default {""}
   */
  close(code: number = CloseCode.Normal, reason = ""): void {
    this.#link.close(code, reason);
  }

  #reportError(error: PubSubError): void {
    this.#options.onError(error);
    this.emit("error", error);
  }
}

/**
 * Wraps one socket as an event target: on the hub, one per accepted
 * connection (or use {@linkcode createWebSocketHub} to serve many); on a
 * client, one per socket (or use {@linkcode connectWebSocketEventTarget} to
 * reconnect).
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 * @param socket A `WebSocket` (Deno, browser) or `ws` socket, connecting or open.
 * @param options Limits, heartbeat, handshake and error handling.
 * @returns The target.
 *
 * @example One target per accepted connection on Deno
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWebSocketEventTarget } from "@alkdev/pubsub/websocket";
 *
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   const eventTarget = createWebSocketEventTarget(socket, {
 *     request,
 *     authenticate: (credentials) => credentials === "secret",
 *   });
 *   // Ends its subscriptions by itself when the socket closes (the target's "close" event).
 *   const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 *   return response;
 * });
 * ```
 */
export function createWebSocketEventTarget<TRequest = unknown>(
  socket: WebSocketLike,
  options: WebSocketEventTargetOptions<TRequest> = {},
): WebSocketEventTarget {
  return new WebSocketEventTarget(socket, options as WebSocketEventTargetOptions<unknown>);
}

/** Turns a credentials option into a function. @internal */
export function credentialsFunction(credentials: unknown): () => unknown {
  return typeof credentials === "function" ? credentials as () => unknown : () => credentials;
}

function closedError(info: WebSocketCloseInfo | undefined): PubSubClosedError {
  return new PubSubClosedError(
    `The WebSocket connection closed with code ${info?.code ?? 1006} (${JSON.stringify(info?.reason ?? "")})`,
    { cause: info?.error },
  );
}
