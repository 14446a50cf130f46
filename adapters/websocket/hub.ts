/**
 * `createWebSocketHub`: one event target over every accepted connection.
 *
 * @module
 */

import { jsonCodec } from "../../core/envelope.ts";
import type { PubSubError } from "../../core/errors.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import type { EnvelopeEvent, EventEnvelope, SubscriptionReadiness } from "../../core/types.ts";
import { CloseCode } from "./close_codes.ts";
import { encodeEvent, type Frame, Link, type LinkConfig, Outbox, toEvent } from "./link.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  positive,
  resolveCommonOptions,
  type ResolvedCommonOptions,
  type WebSocketCloseInfo,
  type WebSocketCommonOptions,
} from "./options.ts";
import type { WebSocketLike } from "./socket.ts";
import type { WebSocketAcceptOptions, WebSocketConnectionState } from "./websocket_event_target.ts";

/**
 * Options for {@linkcode createWebSocketHub}.
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 *
 * @example
 * ```ts
 * import type { WebSocketHubOptions } from "@alkdev/pubsub/websocket";
 *
 * const options: WebSocketHubOptions<Request> = {
 *   authenticate: (credentials) => credentials === "secret",
 *   relay: false,
 * };
 * ```
 */
export interface WebSocketHubOptions<TRequest = unknown>
  extends WebSocketCommonOptions, WebSocketAcceptOptions<TRequest> {
  /**
   * Forward each envelope received from one spoke to every other open spoke
   * (as well as to the hub's local listeners), so spokes reach each other.
   *
   * @default {true}
   */
  relay?: boolean;
}

/**
 * One accepted connection of a {@linkcode WebSocketHub}.
 *
 * @typeParam TRequest The upgrade request type.
 *
 * @example
 * ```ts ignore
 * const connection = hub.accept(socket, request);
 * connection.closed.then(({ code }) => console.log("spoke left with", code));
 * ```
 */
export interface WebSocketHubConnection<TRequest = unknown> {
  /** The upgrade request given to `accept`. */
  readonly request: TRequest | undefined;
  /** The connection's state. */
  readonly state: WebSocketConnectionState;
  /** Settles with the close code and reason once the socket has closed. */
  readonly closed: Promise<WebSocketCloseInfo>;
  /** Closes this connection only. */
  close(code?: number, reason?: string): void;
}

/**
 * The detail of the hub's per-connection `"connect"` and `"disconnect"` events.
 *
 * @example
 * ```ts ignore
 * hub.addEventListener("disconnect", (event) => {
 *   const { connection, info } = (event as unknown as CustomEvent<WebSocketHubEventDetail>).detail;
 *   console.log(connection.request, info?.code);
 * });
 * ```
 */
export interface WebSocketHubEventDetail {
  /** The connection that opened (handshake included) or closed. */
  connection: WebSocketHubConnection;
  /** For `"disconnect"`: the code and reason. */
  info?: WebSocketCloseInfo;
}

class HubConnection<TRequest> implements WebSocketHubConnection<TRequest> {
  readonly request: TRequest | undefined;
  readonly link: Link;
  readonly closed: Promise<WebSocketCloseInfo>;
  resolveClosed!: (info: WebSocketCloseInfo) => void;

  constructor(request: TRequest | undefined, makeLink: (connection: HubConnection<TRequest>) => Link) {
    this.request = request;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.link = makeLink(this);
  }

  get state(): WebSocketConnectionState {
    return this.link.state;
  }

  close(code: number = CloseCode.Normal, reason = ""): void {
    this.link.close(code, reason);
  }
}

/**
 * A hub: one event target over every connection it accepts. `dispatchEvent`
 * delivers to the hub's local listeners and sends to every connection;
 * envelopes from a spoke go to local listeners and, with `relay`, to every
 * other spoke. Every open connection receives every event (there is no
 * per-topic subscription on the wire).
 *
 * Reserved, non-topic event names:
 * - `"connect"` and `"disconnect"` per connection (detail
 *   {@linkcode WebSocketHubEventDetail}); a connection that closes before it
 *   opened gets a `"disconnect"` only;
 * - `"close"` (no detail): dispatched once, by the hub's own `close()`, after
 *   every connection's `"disconnect"`. A pub/sub created over the hub ends its
 *   subscriptions then (see `CLOSE_EVENT`);
 * - `"error"` (detail the {@linkcode PubSubError}).
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWebSocketHub } from "@alkdev/pubsub/websocket";
 *
 * const hub = createWebSocketHub<Request>();
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   hub.accept(socket, request);
 *   return response;
 * });
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: hub });
 * pubsub.publish("ping", "1", 1); // to every spoke
 * ```
 */
export class WebSocketHub<TRequest = unknown> extends TransportEventTarget implements SubscriptionReadiness {
  #options: ResolvedCommonOptions;
  #authenticate: WebSocketHubOptions<TRequest>["authenticate"];
  #handshakeTimeout: number;
  #relay: boolean;
  #connections = new Set<HubConnection<TRequest>>();
  #closed = false;

  /**
   * Constructs a hub; prefer {@linkcode createWebSocketHub}.
   *
   * @param options Limits, heartbeat, handshake, relay and error handling.
   */
  constructor(options: WebSocketHubOptions<TRequest> = {}) {
    super(options);
    this.#options = resolveCommonOptions(options, jsonCodec);
    this.#authenticate = options.authenticate;
    this.#handshakeTimeout = positive("handshakeTimeout", options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
    this.#relay = options.relay ?? true;
  }

  /** The number of connections not yet closed. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Takes over an accepted socket (connecting or open).
   *
   * @param socket The socket, e.g. from `Deno.upgradeWebSocket` or a `ws` server.
   * @param request The upgrade request, passed to `authenticate`.
   * @returns The connection.
   */
  accept(socket: WebSocketLike, request?: TRequest): WebSocketHubConnection<TRequest> {
    const authenticate = this.#authenticate;
    const config: LinkConfig = {
      ...this.#options,
      handshakeTimeout: this.#handshakeTimeout,
      outbox: new Outbox(this.#options.outboxSize),
    };
    if (authenticate !== undefined) {
      config.authenticate = (credentials) => authenticate(credentials, request as TRequest);
    }
    const connection = new HubConnection<TRequest>(request, (connection) =>
      new Link(socket, config, {
        onOpen: () => this.emit("connect", { connection } satisfies WebSocketHubEventDetail),
        onEnvelope: (envelope, frame, link) => this.#onEnvelope(envelope, frame, link),
        onClose: (info, link) => {
          this.#connections.delete(connection);
          this.emit("disconnect", { connection, info } satisfies WebSocketHubEventDetail);
          link.socketClosed.then(() => connection.resolveClosed(info));
        },
        onError: (error) => this.#reportError(error),
      }));
    if (connection.link.state !== "closed") this.#connections.add(connection);
    if (this.#closed) connection.close(CloseCode.Normal, "Hub closed");
    return connection;
  }

  /**
   * Delivers `event` to local listeners and sends its envelope to every
   * connection (queued on those still connecting or in the handshake).
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxMessageBytes`; nothing is delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    const frame = encodeEvent(event, this.#options.codec, this.#options.maxMessageBytes);
    const result = this.dispatchLocal(event);
    for (const connection of this.#connections) connection.link.send(frame);
    return result;
  }

  /**
   * Settles at once: the hub's listeners are live as soon as they are added.
   *
   * @param _topic Unused.
   */
  ready(_topic: string): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Closes every connection with 1000 and refuses new ones; settles once
   * their sockets have closed (or after `timeout` ms). The first call
   * dispatches `"close"` synchronously, once every connection's
   * `"disconnect"` has been dispatched, before the sockets have closed.
   * Idempotent.
   *
   * @param timeout The most milliseconds to wait for the sockets. @default {5000}
   */
  async close(timeout = 5_000): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections];
    for (const connection of connections) connection.close(CloseCode.Normal, "Hub closed");
    // The hub is finished: a pub/sub over it ends its subscriptions here.
    this.emitClose();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(connections.map((c) => c.link.socketClosed)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
    ]);
    clearTimeout(timer);
  }

  #onEnvelope(envelope: EventEnvelope, frame: Frame, from: Link): void {
    this.dispatchLocal(toEvent(envelope));
    if (!this.#relay) return;
    for (const connection of this.#connections) if (connection.link !== from) connection.link.send(frame);
  }

  #reportError(error: PubSubError): void {
    this.#options.onError(error);
    this.emit("error", error);
  }
}

/**
 * Creates a hub that serves any number of spokes. Hand each accepted socket
 * to `hub.accept(socket, request)`.
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 * @param options Limits, heartbeat, handshake, relay and error handling.
 * @returns The hub.
 *
 * @example A Deno hub that requires a token
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWebSocketHub } from "@alkdev/pubsub/websocket";
 *
 * const hub = createWebSocketHub<Request>({
 *   authenticate: (credentials) => (credentials as { token?: string })?.token === Deno.env.get("TOKEN"),
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   hub.accept(socket, request);
 *   return response;
 * });
 * const pubsub = createPubSub<{ "job.progress": number }>({ eventTarget: hub });
 * pubsub.publish("job.progress", "job-1", 50);
 * ```
 */
export function createWebSocketHub<TRequest = unknown>(
  options: WebSocketHubOptions<TRequest> = {},
): WebSocketHub<TRequest> {
  return new WebSocketHub<TRequest>(options);
}
