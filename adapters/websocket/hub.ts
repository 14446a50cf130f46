/**
 * `createWebSocketHub`: one event target over every accepted connection.
 *
 * @module
 */

import { positiveNumber as positive } from "../../core/positive.ts";
import { jsonCodec } from "../../core/envelope.ts";
import type { PubSubError, RefusalReason } from "../../core/errors.ts";
import { FairScheduler } from "../../core/fair_scheduler.ts";
import { announcedLimits } from "../../core/send_pacer.ts";
import { HubEventTarget, type HubFrame } from "../../core/hub_event_target.ts";
import type { HubHistoryOptions, SubscribedInfo } from "../../core/hub_history.ts";
import type { Authorize, AuthorizeLimits, HubAction } from "../../core/hub_authorize.ts";
import type { HubPeer, HubRouter } from "../../core/hub_router.ts";
import { encodePositioned } from "../../core/stream_position.ts";
import type { StreamPosition } from "../../core/topic_history.ts";
import type { HubStats } from "../../core/hub_stats.ts";
import type { HubSchemaOptions } from "../../core/payload_validation.ts";
import type { EnvelopeEvent, EventEnvelope, TypedEventTarget } from "../../core/types.ts";
import { CloseCode } from "./close_codes.ts";
import {
  encodeEvent,
  FEATURES,
  type Frame,
  Link,
  type LinkCallbacks,
  type LinkConfig,
  RECOVER,
  type WebSocketConnectionState,
} from "./link.ts";
import {
  type Authenticate,
  DEFAULT_HANDSHAKE_TIMEOUT,
  resolveCommonOptions,
  type ResolvedCommonOptions,
  type ResolvedPeerLimits,
  resolvePeerLimits,
  type WebSocketCloseInfo,
  type WebSocketCommonOptions,
  type WebSocketPeerLimits,
} from "./options.ts";
import type { WebSocketLike } from "./socket.ts";

/**
 * Options for {@linkcode createWebSocketHub}.
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 * @typeParam TContext What `authenticate` returns for a connection, passed to `authorize`.
 *
 * @example Per-user topics
 * ```ts
 * import type { WebSocketHubOptions } from "@alkdev/pubsub/websocket";
 *
 * type User = { user: string };
 * const options: WebSocketHubOptions<Request, User> = {
 *   authenticate: (credentials) => ({ user: String((credentials as { user?: string })?.user) }),
 *   authorize: ({ id, context }) => id === context?.user,
 *   maxSubscriptionsPerConnection: 100,
 * };
 * ```
 */
export interface WebSocketHubOptions<TRequest = unknown, TContext = unknown>
  extends WebSocketCommonOptions, WebSocketPeerLimits, AuthorizeLimits, HubSchemaOptions {
  /**
   * Decides on the credentials of a spoke's hello, `["hello", 2, credentials]`
   * (`undefined` when the hello has none). Return `true`, or a context object
   * (user id, tenant, roles) that the hub keeps for the connection and passes
   * to `authorize`, to accept; anything else, or a throw, closes the
   * connection with 4401. Without it, every hello is accepted.
   */
  authenticate?: Authenticate<TRequest, TContext>;
  /**
   * Milliseconds from the socket opening to the end of the handshake (hello
   * received and `authenticate` settled); past it, the socket closes with 4408.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
  /**
   * Decides each subscribe (`["sub", topic]`) and each publish of a
   * connection. A refused subscribe is answered `["subrefused", …]` and sends
   * nothing for the topic; a refused publish is dropped and answered
   * `["pubrefused", …]`; the connection stays open. A throw refuses and is
   * reported to `onError`.
   *
   * @default {everything is allowed}
   */
  authorize?: Authorize<TContext>;
  /**
   * A shared target the hub publishes to and listens on, for example a Redis
   * target: several hub processes over one Redis then act as one hub. The hub
   * listens on a topic there only while one of its connections, or one of its
   * own listeners, wants it. The hub never closes it.
   *
   * @default {none: the hub delivers within its own process}
   */
  upstream?: TypedEventTarget<EnvelopeEvent>;
  /**
   * The most topics one connection may hold (subscribed or waiting for
   * `authorize`); one more is refused with `"too-many-subscriptions"`.
   *
   * @default {4096}
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * The longest topic a connection may subscribe to, in UTF-16 code units;
   * a longer one is refused with `"topic-too-long"`.
   *
   * @default {1024}
   */
  maxTopicLength?: number;
  /**
   * Keep a bounded history per topic and let spokes that reconnect (or fail
   * over from another hub sharing the upstream's history) recover what they
   * missed: the hub grants the `"recover"` feature, numbers publications and
   * replays from a spoke's last position. `{}` turns it on with the defaults
   * (100 events and 2 minutes per topic, at most 10,000 topics and 32 MiB);
   * see docs/architecture/hub.md#delivery-guarantees. Off by default: it
   * holds payloads in memory and keeps each topic's upstream subscription for
   * `ttl` after its last subscriber leaves.
   *
   * @default {undefined: no history, at most once across drops}
   */
  history?: HubHistoryOptions;
}

/**
 * The hub's counters, from {@linkcode WebSocketHub.stats}: see
 * {@linkcode HubStats}. Frame and byte counts cover data and control frames;
 * text frames count UTF-16 code units (equal to bytes for ASCII JSON);
 * `dropped` counts frames dropped under `backpressure: "drop"` or from a full outbox.
 *
 * @example
 * ```ts ignore
 * const { connections, topics, framesOut } = hub.stats();
 * ```
 */
export type WebSocketHubStats = HubStats;

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
export interface WebSocketHubConnection<TRequest = unknown, TContext = unknown> {
  /**
   * The upgrade request given to `accept`. The Bun hub keeps it only until
   * the connection's `"connect"` event, unless `keepRequest` is set (see
   * docs/architecture/bun.md).
   */
  readonly request: TRequest | undefined;
  /** What `authenticate` returned, if it returned an object; `undefined` before the handshake. */
  readonly context: TContext | undefined;
  /** The topics this connection holds (subscribed or being authorized). */
  readonly topics: number;
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

/**
 * A socket that also joins and leaves topics of its runtime's own pub/sub
 * (the Bun hub's adapter over `ServerWebSocket`): a connection joins a topic
 * right before its `suback` and leaves it when the subscription ends.
 */
export interface NativeTopicSocket extends WebSocketLike {
  /** Joins the runtime's topic. */
  subscribe(topic: string): void;
  /** Leaves the runtime's topic. */
  unsubscribe(topic: string): void;
}

/** `socket` if it joins its runtime's topics itself (the Bun hub's adapter), else `undefined`. */
function nativeTopics(socket: WebSocketLike): NativeTopicSocket | undefined {
  const native = socket as Partial<NativeTopicSocket>;
  return typeof native.subscribe === "function" && typeof native.unsubscribe === "function"
    ? socket as NativeTopicSocket
    : undefined;
}

/**
 * What a hub's connections share: one per hub, so a connection holds no
 * closures of its own (an idle connection's memory is most of a hub's).
 */
interface ConnectionOwner<TContext> {
  readonly router: HubRouter<Frame, TContext>;
  /** The link config, the same object for every connection. */
  readonly config: LinkConfig;
  opened(connection: HubConnection<unknown, TContext>): void;
  closed(connection: HubConnection<unknown, TContext>, info: WebSocketCloseInfo): void;
  error(error: PubSubError): void;
}

/** One accepted connection: the router's peer over a {@linkcode Link}, and the link's callbacks. */
export class HubConnection<TRequest, TContext>
  implements WebSocketHubConnection<TRequest, TContext>, HubPeer<Frame>, LinkCallbacks {
  /** Cleared by a hub that does not keep requests (the Bun hub's default). */
  request: TRequest | undefined;
  context: TContext | undefined;
  readonly link: Link;
  readonly #owner: ConnectionOwner<TContext>;

  /** Created on first use; the close info once closed. */
  #closed: Promise<WebSocketCloseInfo> | undefined;
  /** Resolves `closed` once asked for; the close info once closed. */
  #closing: ((info: WebSocketCloseInfo) => void) | WebSocketCloseInfo | undefined;

  constructor(request: TRequest | undefined, owner: ConnectionOwner<TContext>, socket: WebSocketLike) {
    this.request = request;
    this.#owner = owner;
    this.link = new Link(socket, owner.config, this);
  }

  get closed(): Promise<WebSocketCloseInfo> {
    if (this.#closed !== undefined) return this.#closed;
    const info = this.#closing;
    return (this.#closed = info !== undefined
      ? Promise.resolve(info as WebSocketCloseInfo)
      : new Promise((resolve) => (this.#closing = resolve)));
  }

  /** Settles `closed`. */
  #settle(info: WebSocketCloseInfo): void {
    const resolve = this.#closing;
    this.#closing = info;
    if (typeof resolve === "function") resolve(info);
  }

  /** @internal Link callback: the handshake is done. */
  onHandshake(_link: Link, context: unknown): void {
    this.context = context as TContext | undefined;
    this.#owner.router.attach(this, this.context);
  }

  /** @internal Link callback. */
  onOpen(): void {
    this.#owner.opened(this as HubConnection<unknown, TContext>);
  }

  /** @internal Link callback. */
  onSubscribe(topic: string, _link: Link, since?: StreamPosition): void {
    this.#owner.router.subscribe(this, topic, since);
  }

  /** @internal Link callback. */
  onUnsubscribe(topic: string): void {
    this.#owner.router.unsubscribe(this, topic);
  }

  /** @internal Link callback. */
  onEnvelope(envelope: EventEnvelope, frame: Frame): void {
    this.#owner.router.publishFrom(this, envelope, frame);
  }

  /** @internal Link callback. */
  onClose(info: WebSocketCloseInfo, link: Link): void {
    this.#owner.closed(this as HubConnection<unknown, TContext>, info);
    link.socketClosed.then(() => this.#settle(info));
  }

  /** @internal Link callback. */
  onError(error: PubSubError): void {
    this.#owner.error(error);
  }

  get state(): WebSocketConnectionState {
    return this.link.state;
  }

  get topics(): number {
    return this.#owner.router.topicsOf(this);
  }

  close(code: number = CloseCode.Normal, reason = ""): void {
    this.link.close(code, reason);
  }

  get recover(): boolean {
    return this.link.features.has(RECOVER);
  }

  sendData(frame: Frame): void {
    this.link.send(frame);
  }

  subscribed(topic: string, info?: SubscribedInfo): void {
    if (this.link.state === "open") nativeTopics(this.link.socket)?.subscribe(topic);
    this.link.control(this.link.requests.suback(topic, info));
  }

  sentAt(topic: string, position: StreamPosition): void {
    this.link.control(["sent", topic, position]);
  }

  unsubscribed(topic: string): void {
    if (this.link.state === "open") nativeTopics(this.link.socket)?.unsubscribe(topic);
  }

  refused(action: HubAction, topic: string, reason: RefusalReason, message: string): void {
    this.link.control(this.link.requests.refusal(action, topic, reason, message));
    if (reason === "invalid-payload") this.link.strike(); // reported by the router
  }
}

/**
 * A hub: one event target over every connection it accepts, routed by
 * interest. Each spoke says which topics it wants (`["sub", topic]`); the hub
 * sends a connection only data frames for topics it subscribed to and the
 * hub allowed. `dispatchEvent` delivers to the hub's local listeners and to
 * the subscribed connections; an envelope from a spoke goes to the hub's
 * local listeners and to the other subscribed spokes, never back to its
 * sender. With `upstream`, every event goes out through it and is delivered
 * when it comes back, so hubs sharing one upstream act as one.
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
 * pubsub.publish("ping", "1", 1); // to every spoke subscribed to ping:1
 * ```
 */
export class WebSocketHub<TRequest = unknown, TContext = unknown> extends HubEventTarget<TContext> {
  #options: ResolvedCommonOptions;
  #authenticate: WebSocketHubOptions<TRequest, TContext>["authenticate"];
  #handshakeTimeout: number;
  #limits: ResolvedPeerLimits & { scheduler: FairScheduler };
  #closed = false;
  #owner: ConnectionOwner<TContext>;

  /**
   * Constructs a hub; prefer {@linkcode createWebSocketHub}.
   *
   * @param options Limits, heartbeat, handshake, authorization, upstream and error handling.
   */
  constructor(options: WebSocketHubOptions<TRequest, TContext> = {}) {
    const resolved = resolveCommonOptions(options, jsonCodec);
    super({
      onListenerError: options.onListenerError,
      encode: (envelope) => resolved.codec.encode(envelope),
      upstream: options.upstream,
      authorize: options.authorize,
      maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection,
      maxTopicLength: options.maxTopicLength,
      schemas: options.schemas,
      maxPendingValidations: options.maxPendingValidations,
      history: options.history,
      encodeAt: (envelope, position, frame) => encodePositioned(resolved.codec, envelope, position, frame),
      maxPendingPublishes: options.maxPendingPublishes,
      maxAuthorizeInFlight: options.maxAuthorizeInFlight,
      authorizeTimeout: options.authorizeTimeout,
      publishAuthorization: options.publishAuthorization,
    });
    this.#options = resolved;
    this.#authenticate = options.authenticate;
    this.#handshakeTimeout = positive("handshakeTimeout", options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
    // One scheduler per hub: its connections take turns with their inbound frames.
    const limits = resolvePeerLimits(options);
    this.#limits = { ...limits, scheduler: new FairScheduler({ slice: limits.inboundSlice }) };
    // Announced in the welcome, so a library spoke paces itself under them instead of being closed with 4008.
    const announced = announcedLimits(limits.inbound, resolved.maxMessageBytes);
    const authenticate = this.#authenticate;
    // One config for every connection: per connection, only what differs (the request, the outbox when needed).
    const config: LinkConfig = {
      ...resolved,
      role: "accept",
      features: options.history === undefined ? FEATURES.filter((f) => f !== RECOVER) : FEATURES,
      welcomeExtra: announced === undefined ? undefined : { limits: announced },
      handshakeTimeout: this.#handshakeTimeout,
      outbox: true,
      counters: this.counters,
      limits: this.#limits,
    };
    if (authenticate !== undefined) {
      config.authenticate = (credentials, owner) =>
        authenticate(credentials, (owner as HubConnection<TRequest, TContext>).request as TRequest);
    }
    this.#owner = {
      router: this.router,
      config: Object.freeze(config),
      opened: (connection) => {
        this.emit("connect", { connection } satisfies WebSocketHubEventDetail);
        this.connected(connection as HubConnection<TRequest, TContext>);
      },
      closed: (connection, info) => {
        this.connectionClosed(connection);
        this.emit("disconnect", { connection, info } satisfies WebSocketHubEventDetail);
      },
      error: (error) => this.reportError(error),
    };
  }

  /**
   * Takes over an accepted socket (connecting or open).
   *
   * @param socket The socket, e.g. from `Deno.upgradeWebSocket` or a `ws` server.
   * @param request The upgrade request, passed to `authenticate`.
   * @returns The connection.
   */
  accept(socket: WebSocketLike, request?: TRequest): WebSocketHubConnection<TRequest, TContext> {
    const connection = new HubConnection<TRequest, TContext>(request, this.#owner, socket);
    // Counted even if its socket was already closed: that close is reported in a microtask, as a "disconnect".
    this.connectionOpened(connection);
    if (this.#closed) connection.close(CloseCode.Normal, "Hub closed");
    return connection;
  }

  /**
   * Encodes an event as a data frame.
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxMessageBytes`; nothing is delivered.
   */
  protected encodeFrame(event: EnvelopeEvent): HubFrame {
    return encodeEvent(event, this.#options.codec, this.#options.maxMessageBytes);
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
    const connections = [...this.live] as HubConnection<TRequest, TContext>[];
    for (const connection of connections) connection.close(CloseCode.Normal, "Hub closed");
    this.router.clear();
    // The hub is finished: a pub/sub over it ends its subscriptions here.
    this.emitClose();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(connections.map((c) => c.link.socketClosed)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
    ]);
    clearTimeout(timer);
  }

  /**
   * Called once a connection's `"connect"` event has been dispatched. @internal
   *
   * @param _connection The connection.
   */
  protected connected(_connection: WebSocketHubConnection<TRequest, TContext>): void {}

  /** Reports through `onError` and an `"error"` event. */
  protected reportError(error: PubSubError): void {
    this.#options.onError(error);
    this.emit("error", error);
  }
}

/**
 * Creates a hub that serves any number of spokes. Hand each accepted socket
 * to `hub.accept(socket, request)`.
 *
 * @typeParam TRequest The upgrade request type passed to `authenticate`.
 * @param options Limits, heartbeat, handshake, authorization, upstream and error handling.
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
export function createWebSocketHub<TRequest = unknown, TContext = unknown>(
  options: WebSocketHubOptions<TRequest, TContext> = {},
): WebSocketHub<TRequest, TContext> {
  return new WebSocketHub<TRequest, TContext>(options);
}
