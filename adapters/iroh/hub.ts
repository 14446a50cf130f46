/**
 * `createIrohHub`: one event target over every iroh connection it accepts,
 * routed by interest (protocol version 2).
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";
import { checkFrameSize } from "../../core/frame_size.ts";
import { HubEventTarget, type HubFrame } from "../../core/hub_event_target.ts";
import { encodePositioned } from "../../core/stream_position.ts";
import type { HubStats } from "../../core/hub_stats.ts";
import { announcedLimits } from "../../core/send_pacer.ts";
import type { EnvelopeEvent } from "../../core/types.ts";
import { IrohConnectionError } from "./errors.ts";
import { firstLine } from "./link.ts";
import { type IrohCloseInfo, type ResolvedIrohOptions, resolveIrohOptions } from "./options.ts";
import { encodeData, IROH_FEATURES } from "./protocol.ts";
import type { IrohConnectionLike } from "./types.ts";
import { type IrohHubContext, type IrohHubOptions, resolveLimits } from "./hub_options.ts";
import { Connection, type IrohHubConnection, type Shared } from "./hub_connection.ts";

export type { IrohHubContext, IrohHubOptions } from "./hub_options.ts";
export type { IrohHubConnection } from "./hub_connection.ts";

/**
 * The hub's counters, from {@linkcode IrohHub.stats}: see {@linkcode HubStats}.
 * Byte counts include the 4-byte prefixes (string frames count UTF-16 code
 * units, equal to bytes for ASCII JSON); `dropped` counts frames not sent
 * because their connection was too slow (closed with code 7).
 *
 * @example
 * ```ts ignore
 * const { connections, topics, framesOut, dropped } = hub.stats();
 * ```
 */
export type IrohHubStats = HubStats;

/**
 * The detail of the hub's `"connect"` and `"disconnect"` events.
 *
 * @example
 * ```ts ignore
 * hub.addEventListener("disconnect", (event) => {
 *   const { connection, info } = (event as unknown as CustomEvent<IrohHubEventDetail>).detail;
 *   console.log(connection.endpointId, info?.code);
 * });
 * ```
 */
export interface IrohHubEventDetail {
  /** The connection. */
  connection: IrohHubConnection;
  /** For `"disconnect"`: how it ended. */
  info?: IrohCloseInfo;
}

/**
 * A hub: one event target over every iroh connection it accepts, routed by
 * interest like the WebSocket hub (the same `HubRouter`). Each spoke says
 * which topics it wants; the hub sends a connection only data frames for
 * topics it subscribed to and `authorize` allowed. An envelope from a spoke
 * goes to the hub's local listeners and to the other subscribed spokes, never
 * back to its sender. With `upstream`, every event goes out through it and is
 * delivered when it comes back, so hubs sharing one upstream (a WebSocket hub
 * and an iroh hub in one process, or hubs over Redis) act as one.
 *
 * Reserved, non-topic event names: `"connect"` and `"disconnect"` per
 * connection (detail {@linkcode IrohHubEventDetail}; a connection that ends
 * in its handshake gets a `"disconnect"` only), `"close"` once on the hub's
 * own `close()`, and `"error"` (detail the {@linkcode PubSubError}).
 *
 * @typeParam TAuth What `allow`/`authenticate` return for a connection.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createIrohHub } from "@alkdev/pubsub/iroh";
 *
 * const hub = createIrohHub({ allow: (endpointId) => knownSpokes.has(endpointId) });
 * (async () => {
 *   for (let incoming = await endpoint.acceptNext(); incoming; incoming = await endpoint.acceptNext()) {
 *     hub.accept(await (await incoming.accept()).connect());
 *   }
 * })();
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: hub });
 * pubsub.publish("ping", "1", 1); // to every spoke subscribed to ping:1
 * ```
 */
export class IrohHub<TAuth = Record<string, unknown>> extends HubEventTarget<IrohHubContext<TAuth>> {
  #shared: Shared<TAuth>;
  #options: ResolvedIrohOptions;
  #allow: IrohHubOptions<TAuth>["allow"];
  #authenticate: IrohHubOptions<TAuth>["authenticate"];
  #closed = false;

  /**
   * Constructs a hub; prefer {@linkcode createIrohHub}.
   *
   * @param options Admission, authorization, upstream, limits and error handling.
   */
  constructor(options: IrohHubOptions<TAuth> = {}) {
    const resolved = resolveIrohOptions(options);
    const codec = resolved.codec;
    super({
      onListenerError: options.onListenerError,
      encode: (envelope) => codec.encode(envelope),
      // Paced like any transport's remote events: a chunk of a spoke's frames reaches the hub's listeners 256 per turn.
      paced: true,
      upstream: options.upstream,
      authorize: options.authorize,
      maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection,
      maxTopicLength: options.maxTopicLength,
      schemas: options.schemas,
      maxPendingValidations: options.maxPendingValidations,
      history: options.history,
      encodeAt: (envelope, position, frame) => encodePositioned(codec, envelope, position, frame),
      maxPendingPublishes: options.maxPendingPublishes,
      maxAuthorizeInFlight: options.maxAuthorizeInFlight,
      authorizeTimeout: options.authorizeTimeout,
      publishAuthorization: options.publishAuthorization,
    });
    this.#options = resolved;
    this.#allow = options.allow;
    this.#authenticate = options.authenticate;
    const limits = resolveLimits(options as IrohHubOptions<never>, this.#options.maxFrameBytes);
    // The limiter counts 4-byte prefixes and raises the byte burst to the largest frame plus its prefix.
    const announced = announcedLimits(limits.inbound, this.#options.maxFrameBytes + 4);
    this.#shared = {
      router: this.router,
      counters: this.counters,
      options: this.#options,
      limits,
      features: options.history === undefined ? IROH_FEATURES.filter((f) => f !== "recover") : IROH_FEATURES,
      welcomeExtra: announced === undefined ? undefined : { limits: announced },
      reportError: (error) => this.reportError(error),
      backlog: () => this.remoteBacklog(),
      connectionClosed: (connection, info) => this.#connectionClosed(connection, info),
    };
  }

  /**
   * Takes over a connection your accept loop produced: checks `allow`,
   * accepts the spoke's stream, waits for its hello, checks `authenticate`,
   * answers welcome, then routes. The hub owns `conn` from now on and closes
   * it when the connection ends. Failures are reported through `onError` and
   * end in a `"disconnect"`.
   *
   * @param conn An accepted connection, e.g. `await (await (await endpoint.acceptNext()).accept()).connect()`.
   * @returns The connection.
   */
  accept(conn: IrohConnectionLike): IrohHubConnection<TAuth> {
    const connection = new Connection<TAuth>(conn, this.#shared);
    this.connectionOpened(connection);
    if (this.#closed) {
      void connection.close();
      return connection;
    }
    connection.handshake(this.#allow, this.#authenticate, this.#options.handshakeTimeoutMs).then(
      () => {
        if (connection.link.state === "open") this.emit("connect", { connection } satisfies IrohHubEventDetail);
      },
      (error) => this.reportError(error instanceof PubSubError ? error : new IrohConnectionError(firstLine(error))),
    );
    return connection;
  }

  #connectionClosed(connection: Connection<TAuth>, info: IrohCloseInfo): void {
    if (!this.connectionClosed(connection)) return;
    this.emit("disconnect", { connection, info } satisfies IrohHubEventDetail);
  }

  /**
   * Encodes an event as a data frame.
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxFrameBytes`; nothing is delivered.
   */
  protected encodeFrame(event: EnvelopeEvent): HubFrame {
    const frame = encodeData(event, this.#options.codec);
    checkFrameSize(frame, this.#options.maxFrameBytes);
    return frame;
  }

  /**
   * Closes every connection gracefully (code 0: spokes reconnect, to another
   * hub if their `dial` finds one) and refuses new ones. Dispatches `"close"`
   * once, at once; each connection's `"disconnect"` follows as its graceful
   * close finishes. Settles once every connection has ended. Idempotent.
   *
   * @returns Settles once the connections have ended.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.live] as Connection<TAuth>[];
    const closing = connections.map((connection) => connection.close());
    this.router.clear();
    this.emitClose();
    await Promise.all(closing);
  }

  /** Reports through `onError` and an `"error"` event. */
  protected reportError(error: PubSubError): void {
    this.#options.report(error);
    this.emit("error", error);
  }
}

/**
 * Creates a hub that serves any number of iroh spokes
 * ({@linkcode connectIrohEventTarget}). Hand each connection your accept loop
 * produces to `hub.accept(conn)`.
 *
 * @typeParam TAuth What `allow`/`authenticate` return for a connection.
 * @param options Admission, authorization, upstream, limits and error handling.
 * @returns The hub.
 *
 * @example A hub for known spokes, sharing its upstream with a WebSocket hub
 * ```ts ignore
 * import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
 * import { createIrohHub } from "@alkdev/pubsub/iroh";
 * import { createWebSocketHub } from "@alkdev/pubsub/websocket";
 *
 * const upstream = createInProcessEventTarget();
 * const wsHub = createWebSocketHub({ upstream });
 * const irohHub = createIrohHub({ upstream, allow: (endpointId) => knownSpokes.has(endpointId) });
 * for (let incoming = await endpoint.acceptNext(); incoming; incoming = await endpoint.acceptNext()) {
 *   irohHub.accept(await (await incoming.accept()).connect());
 * }
 * ```
 */
export function createIrohHub<TAuth = Record<string, unknown>>(options: IrohHubOptions<TAuth> = {}): IrohHub<TAuth> {
  return new IrohHub<TAuth>(options);
}
