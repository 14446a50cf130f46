/**
 * The WebSocket hub on `Bun.serve`, routed by Bun's native pub/sub. Same
 * protocol (version 2), options, authentication, authorization, limits,
 * upstream, `stats()` and events as {@linkcode WebSocketHub} (it is one), but
 * a topic's data frames fan out in Bun's native code:
 *
 * - a connection's `suback` means `ws.subscribe(topic)`; the subscription's
 *   end (`unsub`, revocation, close) means `ws.unsubscribe(topic)`;
 * - an event of the hub or its upstream is encoded once and sent with
 *   `server.publish(topic, frame)`;
 * - a spoke's relayed event goes out with the sender's `ws.publish`, which
 *   skips the sender.
 *
 * No import of Bun's types: its API is typed structurally here
 * ({@linkcode BunServerLike}, {@linkcode BunServerWebSocketLike}).
 * See docs/architecture/bun.md.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createBunWebSocketHub } from "@alkdev/pubsub/bun";
 *
 * const hub = createBunWebSocketHub();
 * Bun.serve({
 *   port: 8080,
 *   fetch: (request, server) => hub.upgrade(request, server) ? undefined : new Response("Not found", { status: 404 }),
 *   websocket: hub.websocket,
 * });
 * const pubsub = createPubSub<{ "job.progress": number }>({ eventTarget: hub });
 * pubsub.publish("job.progress", "job-1", 50);
 * ```
 *
 * @module
 */

import { jsonCodec } from "../../core/envelope.ts";
import type { HubFrame } from "../../core/hub_event_target.ts";
import type { HubPeer } from "../../core/hub_router.ts";
import { CloseCode } from "./close_codes.ts";
import { WebSocketBackpressureError } from "./errors.ts";
import {
  HubConnection,
  type NativeTopicSocket,
  WebSocketHub,
  type WebSocketHubConnection,
  type WebSocketHubOptions,
} from "./hub.ts";
import type { DirectSocket, Link } from "./link.ts";
import { resolveCommonOptions, type ResolvedCommonOptions } from "./options.ts";
import { CLOSED, OPEN, type WebSocketEventLike } from "./socket.ts";

/**
 * What the hub needs of Bun's `ServerWebSocket` (Bun 1.1 and later).
 *
 * @typeParam T The `data` attached at upgrade.
 *
 * @example
 * ```ts
 * import type { BunServerWebSocketLike } from "@alkdev/pubsub/bun";
 *
 * const sent = (ws: BunServerWebSocketLike) => ws.send('["ping"]') !== 0;
 * ```
 */
export interface BunServerWebSocketLike<T = unknown> {
  /** What `server.upgrade(request, { data })` attached. */
  readonly data: T;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** How binary messages arrive. */
  binaryType?: string;
  /** Sends one frame; -1: queued under backpressure, 0: dropped, otherwise the bytes sent. */
  send(data: string | Uint8Array): number;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
  /** Joins a native topic. */
  subscribe(topic: string): void;
  /** Leaves a native topic. */
  unsubscribe(topic: string): void;
  /** Sends to every subscriber of a native topic except this socket. */
  publish(topic: string, data: string | Uint8Array): number;
  /** Bytes queued and not yet written to the network. */
  getBufferedAmount(): number;
}

/**
 * What the hub needs of Bun's `Server`.
 *
 * @example
 * ```ts
 * import type { BunServerLike } from "@alkdev/pubsub/bun";
 *
 * const broadcast = (server: BunServerLike) => server.publish("ping:1", '{"type":"ping","id":"1","payload":1}');
 * ```
 */
export interface BunServerLike {
  /** Upgrades an HTTP request to a WebSocket; `false` if it is not an upgrade request. */
  upgrade(
    request: Request,
    options?: { data?: unknown; headers?: Headers | Record<string, string> | [string, string][] },
  ): boolean;
  /** Sends to every subscriber of a native topic. */
  publish(topic: string, data: string | Uint8Array): number;
}

/**
 * The `data` the hub attaches to each of its sockets at upgrade.
 *
 * @typeParam TRequest The upgrade request type.
 *
 * @example
 * ```ts ignore
 * const { request } = ws.data as BunHubSocketData;
 * ```
 */
export interface BunHubSocketData<TRequest = Request> {
  /**
   * The upgrade request, passed to `authenticate`; cleared after the
   * connection's `"connect"` event unless the hub's `keepRequest` is set.
   */
  request: TRequest | undefined;
  /** The hub's adapter for this socket. @internal */
  readonly socket?: unknown;
}

/**
 * The `websocket` option of `Bun.serve` for the hub: its handlers and the
 * limits Bun enforces natively.
 *
 * @example
 * ```ts ignore
 * Bun.serve({ fetch: (request, server) => hub.upgrade(request, server) ? undefined : new Response(null, { status: 404 }), websocket: hub.websocket });
 * ```
 */
export interface BunWebSocketHandlers {
  /** A socket opened: the hub takes it over. */
  open(ws: BunServerWebSocketLike<BunHubSocketData<unknown>>): void;
  /** A frame arrived. */
  message(ws: BunServerWebSocketLike<BunHubSocketData<unknown>>, message: string | Uint8Array): void;
  /** The socket closed. */
  close(ws: BunServerWebSocketLike<BunHubSocketData<unknown>>, code: number, reason: string): void;
  /** The socket's send buffer drained. */
  drain(ws: BunServerWebSocketLike<BunHubSocketData<unknown>>): void;
  /** Bun's own frame limit: twice `maxMessageBytes`, so the hub's check (4009, typed error) runs first. */
  maxPayloadLength: number;
  /** Where Bun itself stops queueing for a socket: see docs/architecture/bun.md. */
  backpressureLimit: number;
  /** Whether Bun closes a socket past `backpressureLimit` (`backpressure: "close"`) or drops (`"drop"`). */
  closeOnBackpressureLimit: boolean;
  /** 0: no idle timeout of Bun's own; the hub's heartbeat ends silent peers. */
  idleTimeout: number;
  /** No protocol pings of Bun's own (the heartbeat is the protocol's). */
  sendPings: boolean;
  /** Never: the hub's own frames only. */
  publishToSelf: boolean;
  /** Never: frames go as they are. */
  perMessageDeflate: boolean;
}

/**
 * Options for {@linkcode createBunWebSocketHub}: those of
 * {@linkcode WebSocketHubOptions}, and whether to keep each connection's
 * upgrade request.
 *
 * @typeParam TContext What `authenticate` returns for a connection.
 *
 * @example Keep the request for the "disconnect" listeners
 * ```ts
 * import type { BunWebSocketHubOptions } from "@alkdev/pubsub/bun";
 *
 * const options: BunWebSocketHubOptions = { keepRequest: true };
 * ```
 */
export interface BunWebSocketHubOptions<TContext = unknown> extends WebSocketHubOptions<Request, TContext> {
  /**
   * Keep each connection's upgrade `Request` (`connection.request`) for the
   * connection's lifetime. By default the hub keeps it only until the
   * connection's `"connect"` event (`authenticate` and `"connect"` listeners
   * see it), then lets it go: Bun's `Request` holds its URL and headers in
   * native memory, about 0.8 KB per connection, a quarter of what Bun itself
   * needs for an idle socket. Keep what a connection needs later in the
   * context `authenticate` returns, or set this.
   *
   * @default {false}
   */
  keepRequest?: boolean;
}

/** How often, at most, the hub checks every socket's buffer after fan-outs, in ms. */
const SWEEP_INTERVAL = 50;

type Listener = (event: WebSocketEventLike) => void;

/** `listeners` with `listener` added. */
function added(listeners: Listener | Listener[] | undefined, listener: Listener): Listener | Listener[] {
  if (listeners === undefined) return listener;
  return typeof listeners === "function" ? [listeners, listener] : [...listeners, listener];
}

/** `listeners` without `listener`. */
function removed(listeners: Listener | Listener[] | undefined, listener: Listener): Listener | Listener[] | undefined {
  if (listeners === listener) return undefined;
  return Array.isArray(listeners) ? listeners.filter((l) => l !== listener) : listeners;
}

/** Calls each listener with `event` (those present when it starts). */
function dispatch(listeners: Listener | Listener[] | undefined, event: WebSocketEventLike): void {
  if (typeof listeners === "function") listeners(event);
  else if (listeners !== undefined) { for (const listener of listeners) listener(event); }
}

/** Anything but the link listening on a {@linkcode BunSocket}: one listener of each, arrays only for more. */
interface OtherListeners {
  message: Listener | Listener[] | undefined;
  close: Listener | Listener[] | undefined;
}

/**
 * A Bun `ServerWebSocket` as the standard socket the protocol's {@linkcode Link} drives, and the socket's `data`
 * (created at upgrade, with the request; the `ServerWebSocket` is set when it opens). Bun reports no errors apart from
 * the close, so only `"message"` and `"close"` listeners are kept. Four fields: the hub holds one per connection.
 */
class BunSocket implements NativeTopicSocket, DirectSocket, BunHubSocketData<unknown> {
  /** Set in the `open` handler, before the link sees the socket. */
  ws!: BunServerWebSocketLike<BunHubSocketData<unknown>>;
  request: unknown;
  /** The link it calls (link.ts's DirectSocket): no listener closures per connection. `null` once closed. */
  #link: Link | undefined | null;
  /** Listeners other than the link, created on the first. */
  #others: OtherListeners | undefined;

  constructor(request: unknown) {
    this.request = request;
  }

  /** The socket's `data` is the adapter itself. */
  get socket(): this {
    return this;
  }

  /** Frames are handed over as Bun gives them (`ws.binaryType` is set in the `open` handler). */
  get binaryType(): string {
    return "arraybuffer";
  }

  set binaryType(_type: string) {}

  get readyState(): number {
    return this.#link === null ? CLOSED : this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.#link === null ? 0 : this.ws.getBufferedAmount();
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  subscribe(topic: string): void {
    this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (this.#link !== null) this.ws.unsubscribe(topic);
  }

  addEventListener(type: string, listener: Listener): void {
    if (type !== "message" && type !== "close") return;
    const others = this.#others ??= { message: undefined, close: undefined };
    others[type] = added(others[type], listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    const others = this.#others;
    if (others !== undefined && (type === "message" || type === "close")) {
      others[type] = removed(others[type], listener);
    }
  }

  bindLink(link: Link | undefined): void {
    if (this.#link !== null) this.#link = link;
  }

  /** A frame arrived. */
  message(data: string | Uint8Array): void {
    const event = { data };
    this.#link?.onSocketMessage(event);
    if (this.#others?.message !== undefined) dispatch(this.#others.message, event);
  }

  /** The socket closed. */
  closed(code: number, reason: string): void {
    const link = this.#link;
    this.#link = null;
    const event = { code, reason };
    link?.onSocketClose(event);
    if (this.#others?.close !== undefined) dispatch(this.#others.close, event);
  }
}

/**
 * A {@linkcode WebSocketHub} served by `Bun.serve`: hand `hub.websocket` to
 * `Bun.serve` and call `hub.upgrade(request, server)` in its `fetch`. Data
 * frames fan out through Bun's native topics; everything else (handshake,
 * `authenticate`, `authorize`, limits, heartbeat, control frames, upstream,
 * `stats()`, events) is the WebSocket hub's.
 *
 * Budgets: Bun queues each socket's frames natively. Past `highWaterMark`
 * bytes buffered (Bun's `getBufferedAmount()`, checked at most every 50 ms
 * after a fan-out, and before every frame the hub sends one socket), a
 * socket is closed with 4013 under `backpressure: "close"`; Bun's own
 * `backpressureLimit` (twice `highWaterMark`, with
 * `closeOnBackpressureLimit`) closes it if it fills faster than that. Under
 * `"drop"`, `backpressureLimit` is `highWaterMark` and Bun drops that
 * socket's frames past it (not counted in `stats().dropped`).
 *
 * @typeParam TContext What `authenticate` returns for a connection.
 *
 * @example
 * ```ts ignore
 * import { createBunWebSocketHub } from "@alkdev/pubsub/bun";
 *
 * const hub = createBunWebSocketHub<{ user: string }>({
 *   authenticate: (credentials) => ({ user: String((credentials as { user?: string })?.user) }),
 *   authorize: ({ id, context }) => id === context?.user,
 * });
 * const server = Bun.serve({
 *   port: 8080,
 *   fetch: (request, server) => hub.upgrade(request, server) ? undefined : new Response("Not found", { status: 404 }),
 *   websocket: hub.websocket,
 * });
 * ```
 */
export class BunWebSocketHub<TContext = unknown> extends WebSocketHub<Request, TContext> {
  /** The `websocket` option for `Bun.serve`. */
  readonly websocket: BunWebSocketHandlers;
  #server: BunServerLike | undefined;
  #resolved: ResolvedCommonOptions;
  #sweep: ReturnType<typeof setTimeout> | undefined;
  /**
   * Bytes that may have been queued on any one socket since the last full check (a bound): each fan-out adds one
   * frame to each subscriber; text counts 3 bytes per UTF-16 unit (the most UTF-8 needs).
   */
  #growth = 0;
  /** The most any socket had queued at the last full check. */
  #checkedMax = 0;
  /** The fan-outs' share of `counters.bytesOut` (frame × recipients); the rest is what the links sent themselves. */
  #fannedOut = 0;
  /** What the links had sent themselves at the last full check. */
  #linkBytesChecked = 0;
  #keepRequest: boolean;

  /**
   * Constructs a hub; prefer {@linkcode createBunWebSocketHub}.
   *
   * @param options The options of {@linkcode BunWebSocketHubOptions}.
   */
  constructor(options: BunWebSocketHubOptions<TContext> = {}) {
    super(options);
    const resolved = resolveCommonOptions(options, jsonCodec);
    this.#resolved = resolved;
    this.#keepRequest = options.keepRequest ?? false;
    const close = resolved.backpressure === "close";
    this.websocket = {
      open: (ws) => this.#open(ws),
      message: (ws, message) => {
        const socket = ws.data;
        if (socket instanceof BunSocket && socket.ws === ws) socket.message(message);
      },
      close: (ws, code, reason) => {
        const socket = ws.data;
        if (socket instanceof BunSocket && socket.ws === ws) socket.closed(code, reason);
      },
      drain: () => {},
      maxPayloadLength: resolved.maxMessageBytes * 2,
      backpressureLimit: close ? resolved.highWaterMark * 2 : resolved.highWaterMark,
      closeOnBackpressureLimit: close,
      idleTimeout: 0,
      sendPings: false,
      publishToSelf: false,
      perMessageDeflate: false,
    };
  }

  /**
   * Upgrades `request` to a WebSocket served by this hub. A hub serves one
   * `Bun.serve` server: the native topics it publishes to are that server's.
   *
   * @param request The HTTP request (passed to `authenticate`).
   * @param server The `Bun.serve` server whose `fetch` received it.
   * @param headers Extra response headers for the upgrade.
   * @returns `true` if upgraded (`fetch` then returns `undefined`), `false` if it was not an upgrade request.
   */
  upgrade(
    request: Request,
    server: BunServerLike,
    headers?: Headers | Record<string, string> | [string, string][],
  ): boolean {
    this.#server = server;
    const data = new BunSocket(request);
    return server.upgrade(request, headers === undefined ? { data } : { data, headers });
  }

  #open(ws: BunServerWebSocketLike<BunHubSocketData<unknown>>): void {
    const socket = ws.data;
    if (!(socket instanceof BunSocket) || socket.ws !== undefined || this.#server === undefined) {
      // Not upgraded by hub.upgrade(): without the server, the hub cannot publish to it.
      ws.close(1011, "Not upgraded by the hub");
      return;
    }
    try {
      ws.binaryType = "uint8array";
    } catch {
      // An older Bun: Buffers are byte views too.
    }
    socket.ws = ws;
    this.accept(socket, socket.request as Request);
  }

  /** After the `"connect"` event: lets the upgrade request go unless `keepRequest`. @internal */
  protected override connected(connection: WebSocketHubConnection<Request, TContext>): void {
    if (this.#keepRequest || !(connection instanceof HubConnection)) return;
    connection.request = undefined;
    const socket = connection.link.socket;
    if (socket instanceof BunSocket) socket.request = undefined;
  }

  /** One native publish per event: from the sender's socket (skipping it) or from the server. @internal */
  protected override fanOut(
    topic: string,
    frame: HubFrame,
    except: HubPeer<HubFrame> | undefined,
    recipients: number,
  ): void {
    const from = except instanceof HubConnection ? except.link.socket : undefined;
    if (from instanceof BunSocket && from.readyState === OPEN) from.ws.publish(topic, frame);
    else if (this.#server !== undefined) this.#server.publish(topic, frame);
    else return;
    const counters = this.counters;
    const size = typeof frame === "string" ? frame.length : frame.byteLength;
    counters.framesOut += recipients;
    counters.bytesOut += size * recipients;
    this.#fannedOut += size * recipients;
    this.#growth += typeof frame === "string" ? size * 3 : size;
    if (this.#sweep === undefined && this.#resolved.backpressure === "close") {
      this.#sweep = setTimeout(() => this.#checkBudgets(), SWEEP_INTERVAL);
    }
  }

  /**
   * Closes every socket whose native buffer passed `highWaterMark` with 4013. Skipped while no socket can have: the
   * most queued at the last full check, plus every frame fanned out and everything the links sent since, stays
   * within the limit (a burst of small events then costs no pass over every socket).
   */
  #checkBudgets(): void {
    this.#sweep = undefined;
    const limit = this.#resolved.highWaterMark;
    const linkBytes = this.counters.bytesOut - this.#fannedOut;
    if (this.#checkedMax + this.#growth + (linkBytes - this.#linkBytesChecked) * 3 <= limit) return;
    this.#growth = 0;
    this.#linkBytesChecked = linkBytes;
    let max = 0;
    for (const peer of this.live) {
      if (!(peer instanceof HubConnection)) continue;
      const socket = peer.link.socket;
      if (!(socket instanceof BunSocket)) continue;
      const buffered = socket.bufferedAmount;
      if (buffered <= limit || peer.link.state !== "open") {
        if (buffered > max) max = buffered;
        continue;
      }
      const error = new WebSocketBackpressureError(buffered, limit, "close");
      this.reportError(error);
      peer.link.close(CloseCode.SlowConsumer, "Slow consumer", error);
    }
    this.#checkedMax = max;
  }

  /**
   * Closes every connection (see {@linkcode WebSocketHub.close}); the
   * `Bun.serve` server is the caller's to stop.
   *
   * @param timeout The most milliseconds to wait for the sockets. @default {5000}
   */
  override async close(timeout = 5_000): Promise<void> {
    if (this.#sweep !== undefined) clearTimeout(this.#sweep);
    this.#sweep = undefined;
    await super.close(timeout);
  }
}

/**
 * Creates a hub for `Bun.serve`, routed by Bun's native pub/sub; see
 * {@linkcode BunWebSocketHub}.
 *
 * @typeParam TContext What `authenticate` returns for a connection.
 * @param options The options of {@linkcode BunWebSocketHubOptions}.
 * @returns The hub.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createBunWebSocketHub } from "@alkdev/pubsub/bun";
 *
 * const hub = createBunWebSocketHub();
 * Bun.serve({
 *   port: 8080,
 *   fetch: (request, server) => hub.upgrade(request, server) ? undefined : new Response("Not found", { status: 404 }),
 *   websocket: hub.websocket,
 * });
 * createPubSub<{ ping: number }>({ eventTarget: hub }).publish("ping", "1", 1);
 * ```
 */
export function createBunWebSocketHub<TContext = unknown>(
  options: BunWebSocketHubOptions<TContext> = {},
): BunWebSocketHub<TContext> {
  return new BunWebSocketHub<TContext>(options);
}

export { CloseCode } from "./close_codes.ts";
export type { WebSocketHubOptions } from "./hub.ts";
