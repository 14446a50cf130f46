/**
 * `createWebSocketEventTarget`: an event target over one open or accepted
 * socket, on either end of the connection.
 *
 * @module
 */

import { PubSubClosedError } from "../../core/errors.ts";
import { SUBSCRIPTION_GAP_EVENT } from "../../core/subscription_gap.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import { type EnvelopeEvent, isTopic, SUBSCRIPTION_ERROR_EVENT, type SubscriptionReadiness } from "../../core/types.ts";
import { CloseCode } from "./close_codes.ts";
import { WebSocketHub, type WebSocketHubEventDetail, type WebSocketHubOptions } from "./hub.ts";
import type { WebSocketConnectionState } from "./link.ts";
import type {
  WebSocketAcceptOptions,
  WebSocketCloseInfo,
  WebSocketCommonOptions,
  WebSocketPeerLimits,
} from "./options.ts";
import type { WebSocketConstructorLike, WebSocketLike } from "./socket.ts";
import { WebSocketSpoke } from "./spoke.ts";

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
  extends WebSocketCommonOptions, WebSocketAcceptOptions<TRequest>, WebSocketPeerLimits {
  /**
   * Which end of the connection this is. `"accept"`: the side that accepted
   * the socket; it waits for the hello and serves the peer like a hub with
   * one connection (`authorize`, limits). `"dial"`: the side that opened it;
   * it sends the hello and subscribes like a spoke that does not reconnect.
   *
   * @default {"accept" when `authenticate` or `request` is given, else "dial"}
   */
  role?: "accept" | "dial";
  /** The upgrade request, passed to `authenticate`. */
  request?: TRequest;
  /**
   * Dialing side: credentials to send in the hello,
   * `["hello", 2, credentials]` (JSON). A function is called once and may
   * return a promise. The socket counts as open once the peer answers
   * `["welcome", 2]`.
   */
  credentials?: unknown;
  /** Accepting side: passed to the one-connection hub, see {@linkcode WebSocketHubOptions}. */
  authorize?: WebSocketHubOptions<TRequest>["authorize"];
  /** Accepting side: see {@linkcode WebSocketHubOptions}. @default {4096} */
  maxSubscriptionsPerConnection?: number;
  /** Accepting side: see {@linkcode WebSocketHubOptions}. @default {1024} */
  maxTopicLength?: number;
}

/**
 * An event target over one WebSocket, on either end. The accepting end is a
 * hub with this one connection: it sends the peer only the topics the peer
 * subscribed to. The dialing end is a spoke that does not reconnect: it
 * subscribes for its listeners and `ready(topic)` waits for the peer's
 * acknowledgement. Envelopes from the peer are validated and delivered to
 * local listeners.
 *
 * Reserved, non-topic event names (none contains `:`): `"open"` (detail
 * `undefined`), `"close"` (detail {@linkcode WebSocketCloseInfo}),
 * `"error"` (detail the {@linkcode PubSubError}) and, on the dialing end,
 * `"subscription-error"`. `"close"` is dispatched once, when the socket
 * closes for any reason (`close()` included); there is no reconnect, so it is
 * final, and a pub/sub created over the target ends its subscriptions then
 * (see `CLOSE_EVENT`).
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWebSocketEventTarget } from "@alkdev/pubsub/websocket";
 *
 * const eventTarget = createWebSocketEventTarget(new WebSocket("ws://127.0.0.1:8080"));
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 * const pings = pubsub.subscribe("ping", "1");
 * await pubsub.ready("ping", "1");
 * pubsub.publish("ping", "1", 1);
 * ```
 */
export class WebSocketEventTarget extends TransportEventTarget implements SubscriptionReadiness {
  #socket: WebSocketLike;
  #spoke: WebSocketSpoke | undefined;
  #inner: WebSocketHub<unknown> | WebSocketSpoke;
  #connection: ReturnType<WebSocketHub<unknown>["accept"]> | undefined;
  #opened: Promise<void>;
  #closed: Promise<WebSocketCloseInfo>;
  #info: WebSocketCloseInfo | undefined;

  /**
   * Wraps `socket`; prefer {@linkcode createWebSocketEventTarget}.
   *
   * @param socket An open or connecting socket.
   * @param options Role, limits, heartbeat, handshake and error handling.
   */
  constructor(socket: WebSocketLike, options: WebSocketEventTargetOptions<unknown> = {}) {
    super(options);
    this.#socket = socket;
    const role = options.role ??
      (options.authenticate !== undefined || options.request !== undefined ? "accept" : "dial");
    let resolveOpened!: () => void;
    let rejectOpened!: (error: Error) => void;
    this.#opened = new Promise((resolve, reject) => {
      resolveOpened = resolve;
      rejectOpened = reject;
    });
    this.#opened.catch(() => {});
    let resolveClosed!: (info: WebSocketCloseInfo) => void;
    this.#closed = new Promise((resolve) => (resolveClosed = resolve));
    const finish = (info: WebSocketCloseInfo, socketClosed: Promise<unknown>): void => {
      if (this.#info !== undefined) return;
      this.#info = info;
      rejectOpened(closedError(info));
      this.emitClose(info);
      socketClosed.then(() => resolveClosed(info));
    };
    const opened = (): void => {
      resolveOpened();
      this.emit("open");
    };
    if (role === "accept") {
      const hub = new WebSocketHub<unknown>(options as WebSocketHubOptions<unknown>);
      this.#inner = hub;
      hub.addEventListener("connect", opened);
      hub.addEventListener("disconnect", (event) => {
        const { connection, info } = (event as unknown as CustomEvent<WebSocketHubEventDetail>).detail;
        finish(info ?? { code: 1006, reason: "" }, connection.closed);
        hub.close();
      });
      this.#connection = hub.accept(socket, options.request);
    } else {
      const Given = function (): WebSocketLike {
        return socket;
      } as unknown as WebSocketConstructorLike;
      const spoke = new WebSocketSpoke("ws://127.0.0.1/", { ...options, WebSocket: Given, maxAttempts: 0 });
      this.#spoke = spoke;
      this.#inner = spoke;
      spoke.addEventListener("open", opened);
      spoke.addEventListener("close", (event) => {
        finish((event as unknown as CustomEvent<WebSocketCloseInfo>).detail, spoke.closed);
      });
      spoke.addEventListener(SUBSCRIPTION_ERROR_EVENT, (event) => {
        this.emit(SUBSCRIPTION_ERROR_EVENT, (event as unknown as CustomEvent).detail);
      });
      spoke.addEventListener(SUBSCRIPTION_GAP_EVENT, (event) => {
        this.emit(SUBSCRIPTION_GAP_EVENT, (event as unknown as CustomEvent).detail);
      });
    }
    this.#inner.addEventListener("error", (event) => this.emit("error", (event as unknown as CustomEvent).detail));
  }

  /** The socket this target drives. */
  get socket(): WebSocketLike {
    return this.#socket;
  }

  /** The connection's state. */
  get state(): WebSocketConnectionState {
    if (this.#connection !== undefined) return this.#connection.state;
    const state = this.#spoke!.state;
    return state === "reconnecting" ? "closed" : state;
  }

  /** Settles with the close code and reason once the socket has closed. */
  get closed(): Promise<WebSocketCloseInfo> {
    return this.#closed;
  }

  /**
   * Delivers `event` to local listeners and sends its envelope to the peer
   * (on the accepting end, only if the peer subscribed to its topic; on the
   * dialing end, queued while connecting; dropped once closed).
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxMessageBytes`; nothing is delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    if (!isTopic(event.type)) return this.dispatchLocal(event);
    return this.#inner.dispatchEvent(event);
  }

  /**
   * Settles once the connection is open (handshake included) and, on the
   * dialing end, the peer has acknowledged the subscription to `topic`;
   * rejects with {@linkcode PubSubClosedError} if it closes first, or with the
   * refusal if the peer refuses the topic.
   *
   * @param topic The topic.
   */
  ready(topic: string): Promise<void> {
    if (this.#spoke !== undefined) return this.#spoke.ready(topic);
    if (this.#info !== undefined) return Promise.reject(closedError(this.#info));
    return this.#opened;
  }

  /**
   * Closes the socket. Idempotent.
   *
   * @param code The close code. @default {1000}
   * @param reason The close reason. @default {""}
   */
  close(code: number = CloseCode.Normal, reason = ""): void {
    if (this.#connection !== undefined) this.#connection.close(code, reason);
    else this.#spoke!.close(code, reason);
  }

  /** Listens on the inner hub or spoke for the topics local listeners want. @internal */
  protected override onTopicInterest(topic: string, interested: boolean): void {
    if (interested) this.#inner.addEventListener(topic, this.#forward);
    else this.#inner.removeEventListener(topic, this.#forward);
  }

  #forward = (event: EnvelopeEvent): void => {
    this.dispatchLocal(event);
  };
}

/**
 * Wraps one socket as an event target: on the hub, one per accepted
 * connection (or use {@linkcode createWebSocketHub} to serve many); on a
 * client, one per socket (or use {@linkcode connectWebSocketEventTarget} to
 * reconnect).
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 * @param socket A `WebSocket` (Deno, browser) or `ws` socket, connecting or open.
 * @param options Role, limits, heartbeat, handshake and error handling.
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

function closedError(info: WebSocketCloseInfo | undefined): PubSubClosedError {
  return new PubSubClosedError(
    `The WebSocket connection closed with code ${info?.code ?? 1006} (${JSON.stringify(info?.reason ?? "")})`,
    { cause: info?.error },
  );
}
