/**
 * `connectWebSocketEventTarget`: the reconnecting spoke.
 *
 * @module
 */

import { positiveNumber as positive } from "../../core/positive.ts";
import { jsonCodec } from "../../core/envelope.ts";
import { frameSize } from "../../core/frame_size.ts";
import { isLiteEvent, LITE_EVENTS, realEvent } from "../../core/lite_event.ts";
import { PubSubClosedError, type PubSubError, type RefusalReason } from "../../core/errors.ts";
import type { HubAction } from "../../core/hub_authorize.ts";
import type { BackoffOptions } from "../../core/backoff.ts";
import { ReconnectPolicy } from "../../core/reconnect.ts";
import type { SpokeStats } from "../../core/hub_stats.ts";
import { RemoteInterest } from "../../core/remote_interest.ts";
import { encodeSub } from "../../core/sub_request.ts";
import { SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "../../core/subscription_gap.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import { type EnvelopeEvent, isTopic, SUBSCRIPTION_ERROR_EVENT, type SubscriptionReadiness } from "../../core/types.ts";
import { CloseCode, isFinalCloseCode } from "./close_codes.ts";
import { WebSocketHandshakeError } from "./errors.ts";
import { parseAnnouncedLimits, SendPacer } from "../../core/send_pacer.ts";
import { WebSocketOutboxOverflowError } from "./errors.ts";
import {
  encodeEvent,
  FEATURES,
  type Frame,
  Link,
  type LinkConfig,
  type LinkCounters,
  RECOVER,
  toEvent,
} from "./link.ts";
import {
  credentialsFunction,
  DEFAULT_HANDSHAKE_TIMEOUT,
  resolveCommonOptions,
  type ResolvedCommonOptions,
  type WebSocketCloseInfo,
  type WebSocketCommonOptions,
} from "./options.ts";
import type { WebSocketConstructorLike, WebSocketLike } from "./socket.ts";

export type { BackoffOptions } from "../../core/backoff.ts";

/**
 * Options for {@linkcode connectWebSocketEventTarget}.
 *
 * @example
 * ```ts
 * import type { WebSocketSpokeOptions } from "@alkdev/pubsub/websocket";
 *
 * const options: WebSocketSpokeOptions = {
 *   credentials: async () => ({ token: "secret" }),
 *   backoff: { initialDelay: 250, maxDelay: 10_000 },
 *   outboxSize: 256,
 * };
 * ```
 */
export interface WebSocketSpokeOptions extends WebSocketCommonOptions {
  /**
   * The WebSocket constructor. Pass `ws`'s on Node 20, which has no global one:
   * `WebSocket: (await import("ws")).WebSocket`.
   *
   * @default {globalThis.WebSocket}
   */
  WebSocket?: WebSocketConstructorLike;
  /** Subprotocols offered to the hub. */
  protocols?: string | string[];
  /**
   * Credentials sent in the hello that opens every connection,
   * `["hello", 2, credentials]` (JSON; never in the URL). A function is called
   * for each connection and may return a promise. Without credentials the
   * hello is `["hello", 2]`.
   */
  credentials?: unknown;
  /**
   * Milliseconds from the socket opening to the hub's `["welcome", 2]`; past
   * it the spoke closes with 4408 and stops.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
  /** Reconnect timing. */
  backoff?: BackoffOptions;
  /**
   * The most events the spoke holds while they cannot go yet: while it is
   * not connected, and while it paces itself under the hub's announced
   * inbound limits or waits for its socket's send budget. Past it (or past
   * `outboxBytes`) the oldest held events are dropped, counted in
   * `stats().dropped` and reported once per overflow as a
   * `WebSocketOutboxOverflowError`.
   *
   * @default {131072}
   */
  outboxSize?: number;
  /**
   * The most bytes of encoded events (UTF-16 code units for text frames) the
   * spoke holds; see `outboxSize`.
   *
   * @default {16777216 (16 MiB)}
   */
  outboxBytes?: number;
  /**
   * Consecutive reconnects to try before giving up; the count resets once a
   * connection stays open for `backoff.resetAfter`.
   *
   * @default {Infinity}
   */
  maxAttempts?: number;
}

/**
 * The spoke's state: `"connecting"`, `"handshake"`, `"open"`, `"reconnecting"`
 * (waiting for the next attempt) or `"closed"` (for good).
 *
 * @example
 * ```ts
 * import type { WebSocketSpokeState } from "@alkdev/pubsub/websocket";
 *
 * const state: WebSocketSpokeState = "reconnecting";
 * ```
 */
export type WebSocketSpokeState = "connecting" | "handshake" | "open" | "reconnecting" | "closed";

/**
 * The detail of the spoke's `"reconnecting"` event.
 *
 * @example
 * ```ts
 * import type { WebSocketReconnectingDetail } from "@alkdev/pubsub/websocket";
 *
 * const detail: WebSocketReconnectingDetail = { attempt: 1, delay: 420 };
 * ```
 */
export interface WebSocketReconnectingDetail {
  /** The retry number since the last stable connection, from 1. */
  attempt: number;
  /** Milliseconds until the attempt. */
  delay: number;
}

/**
 * Where a spoke dials: one URL, several (tried in turn, one per attempt, so a
 * spoke whose hub died moves to the next), or a function called before each
 * attempt that returns the URL (or a promise of it).
 *
 * @example
 * ```ts
 * import type { WebSocketSpokeUrl } from "@alkdev/pubsub/websocket";
 *
 * const hubs: WebSocketSpokeUrl = ["ws://10.0.0.1:8080", "ws://10.0.0.2:8080"];
 * ```
 */
export type WebSocketSpokeUrl =
  | string
  | URL
  | readonly (string | URL)[]
  | (() => string | URL | Promise<string | URL>);

/**
 * The spoke's counters, from {@linkcode WebSocketSpoke.stats}: see
 * {@linkcode SpokeStats}. Text frames count UTF-16 code units.
 *
 * @example
 * ```ts ignore
 * console.log(spoke.stats().reconnects);
 * ```
 */
export type WebSocketSpokeStats = SpokeStats;

/**
 * A reconnecting WebSocket event target. Local listeners live on the spoke,
 * not the socket, so they survive reconnects. The spoke tells the hub which
 * topics its listeners want (`["sub", topic]` when a topic gets its first
 * listener, `["unsub", topic]` when it loses its last; 50 listeners on one
 * topic send one frame), and the hub sends it only those. After each
 * (re)connect it announces them all again before anything else. While it is
 * not open, events wait in a bounded outbox (oldest dropped first) and are
 * sent, in order, once the next connection is open and its subscriptions are
 * announced.
 *
 * Reserved, non-topic event names:
 * - `"open"`: each connection is open (handshake included);
 * - `"disconnect"` (detail {@linkcode WebSocketCloseInfo}): a connection, or
 *   an attempt to make one, closed and the spoke will try again; a
 *   `"reconnecting"` event follows;
 * - `"reconnecting"` (detail {@linkcode WebSocketReconnectingDetail});
 * - `"close"` (detail {@linkcode WebSocketCloseInfo}, the last connection's
 *   close): dispatched once, when the spoke stops for good (its own `close()`,
 *   a 4400–4499 code from the hub, or `maxAttempts` used up). A pub/sub
 *   created over the spoke ends its subscriptions then (see `CLOSE_EVENT`);
 * - `"error"` (detail the {@linkcode PubSubError});
 * - `"subscription-error"` (`SUBSCRIPTION_ERROR_EVENT`): the hub refused a
 *   topic; a pub/sub over the spoke ends that topic's subscriptions with the
 *   {@linkcode SubscriptionRefusedError}.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocketEventTarget } from "@alkdev/pubsub/websocket";
 *
 * const spoke = connectWebSocketEventTarget("ws://127.0.0.1:8080");
 * spoke.addEventListener("disconnect", (event) => console.log("dropped, will retry", event.detail));
 * spoke.addEventListener("close", (event) => console.log("stopped for good", event.detail));
 * ```
 */
export class WebSocketSpoke extends TransportEventTarget implements SubscriptionReadiness {
  #nextUrl: () => string | Promise<string>;
  #interest = new RemoteInterest();
  #counters: LinkCounters = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, dropped: 0 };
  #opened = 0;
  #options: ResolvedCommonOptions;
  #WebSocket: WebSocketConstructorLike;
  #protocols: string | string[] | undefined;
  #credentials: (() => unknown) | undefined;
  #handshakeTimeout: number;
  #reconnect: ReconnectPolicy;
  #pacer: SendPacer<Frame>;
  #outboxSize: number;
  #link: Link | undefined;
  #state: WebSocketSpokeState = "connecting";
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #final: WebSocketCloseInfo | undefined;
  #stopping = false;
  #closed: Promise<WebSocketCloseInfo>;
  #resolveClosed!: (info: WebSocketCloseInfo) => void;

  /**
   * Starts connecting; prefer {@linkcode connectWebSocketEventTarget}.
   *
   * @param url The hub's `ws:` or `wss:` URL, several of them, or a function returning the next.
   * @param options Reconnect, handshake, limits and error handling.
   */
  constructor(url: WebSocketSpokeUrl, options: WebSocketSpokeOptions = {}) {
    super(options);
    this.#nextUrl = urlSource(url);
    this.#options = resolveCommonOptions(options, jsonCodec);
    const WebSocketClass = options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
    if (WebSocketClass === undefined) {
      throw new TypeError("No global WebSocket: pass one as the WebSocket option (on Node 20, ws's WebSocket)");
    }
    this.#WebSocket = WebSocketClass;
    this.#protocols = options.protocols;
    this.#credentials = options.credentials === undefined ? undefined : credentialsFunction(options.credentials);
    this.#handshakeTimeout = positive("handshakeTimeout", options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
    this.#reconnect = new ReconnectPolicy(options.backoff, "equal", options.maxAttempts);
    this.#outboxSize = positive("outboxSize", options.outboxSize ?? DEFAULT_SPOKE_OUTBOX_SIZE);
    const outboxBytes = positive("outboxBytes", options.outboxBytes ?? DEFAULT_SPOKE_OUTBOX_BYTES);
    this.#pacer = new SendPacer<Frame>({
      size: frameSize,
      transmit: (frame) => this.#link?.send(frame),
      ready: (size) => this.#link?.fits(size) ?? false,
      maxFrames: this.#outboxSize,
      maxBytes: outboxBytes,
      onDrop: (count, first) => {
        this.#counters.dropped += count;
        if (first) this.#reportError(new WebSocketOutboxOverflowError(this.#outboxSize));
      },
      onDrain: () => this.emit("drain"),
    });
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#connect();
  }

  /**
   * The spoke's counters: reconnects, topics, frames and bytes each way, drops.
   *
   * @returns A snapshot.
   */
  stats(): WebSocketSpokeStats {
    return { reconnects: Math.max(0, this.#opened - 1), topics: this.#interest.size, ...this.#counters };
  }

  /** The spoke's state. */
  get state(): WebSocketSpokeState {
    if (this.#state === "connecting" && this.#link?.state === "handshake") return "handshake";
    return this.#state;
  }

  /** Settles once the spoke has stopped for good and its socket has closed. */
  get closed(): Promise<WebSocketCloseInfo> {
    return this.#closed;
  }

  /**
   * Delivers `event` to local listeners and sends its envelope to the hub:
   * at once if open, through the outbox otherwise; dropped once closed for good.
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxMessageBytes`; nothing is delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    if (!isTopic(event.type)) return this.dispatchLocal(realEvent(event));
    const frame = encodeEvent(event, this.#options.codec, this.#options.maxMessageBytes);
    // A lite event from createPubSub (core/lite_event.ts) becomes a runtime event only for local listeners.
    const result = isLiteEvent(event) && this.listenerCount(event.type) === 0 ||
      this.dispatchLocal(realEvent(event));
    if (this.#final === undefined) this.#pacer.push(frame);
    return result;
  }

  /**
   * What the spoke holds and has not yet handed to the socket: bytes of the
   * encoded events (UTF-16 code units for text frames) waiting for a
   * connection, for the hub's announced rate limits or for the socket's send
   * budget. A producer that can slow down waits for `"drain"` once it grows:
   * past `outboxSize` events or `outboxBytes` the oldest are dropped.
   *
   * @example Publish a large batch without ever dropping
   * ```ts ignore
   * for (const event of batch) {
   *   pubsub.publish("job.progress", event.id, event);
   *   if (spoke.bufferedAmount > 4 * 1024 * 1024) {
   *     await new Promise((resolve) => spoke.addEventListener("drain", resolve, { once: true }));
   *   }
   * }
   * ```
   */
  get bufferedAmount(): number {
    return this.#pacer.bytes;
  }

  /**
   * Settles once `topic` is live: the hub has acknowledged the spoke's
   * subscription on the current connection (for a topic no listener wants,
   * once a connection is open). Rejects with the
   * {@linkcode SubscriptionRefusedError} if the hub refuses it, and with
   * {@linkcode PubSubClosedError} if the spoke stops for good first.
   *
   * @param topic The topic.
   */
  ready(topic: string): Promise<void> {
    return this.#interest.ready(topic);
  }

  /**
   * Stops for good: closes the socket and cancels any pending reconnect.
   * Idempotent.
   *
   * @param code The close code. @default {1000}
   * @param reason The close reason. @default {""}
   */
  close(code: number = CloseCode.Normal, reason = ""): void {
    if (this.#final !== undefined) return;
    this.#stopping = true;
    const link = this.#link;
    if (link !== undefined) link.close(code, reason);
    else this.#stop({ code, reason }, undefined);
  }

  /** Announces topics as local listeners come and go. @internal */
  protected override onTopicInterest(topic: string, interested: boolean): void {
    if (interested) this.#interest.want(topic);
    else this.#interest.unwant(topic);
  }

  #connect(): void {
    this.#retryTimer = undefined;
    this.#state = "connecting";
    let url: string | Promise<string>;
    try {
      url = this.#nextUrl();
    } catch (cause) {
      this.#cannotDial(cause);
      return;
    }
    if (typeof url === "string") this.#dial(url);
    else {
      url.then(
        (resolved) => {
          if (this.#final === undefined && !this.#stopping) this.#dial(checkUrl(resolved));
          else if (this.#link === undefined) this.#stop({ code: CloseCode.Normal, reason: "" }, undefined);
        },
        (cause) => this.#cannotDial(cause),
      );
    }
  }

  #cannotDial(cause: unknown): void {
    if (this.#stopping) {
      this.#stop({ code: CloseCode.Normal, reason: "" }, undefined);
      return;
    }
    this.#onClose({ code: 1006, reason: `Cannot open a WebSocket: ${(cause as Error)?.message ?? cause}` });
  }

  #dial(url: string): void {
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(url, this.#protocols);
    } catch (cause) {
      this.#cannotDial(cause);
      return;
    }
    const config: LinkConfig = {
      ...this.#options,
      role: "dial",
      features: FEATURES,
      handshakeTimeout: this.#handshakeTimeout,
      counters: this.#counters,
      onTransmit: (size) => this.#pacer.charge(size),
    };
    if (this.#credentials !== undefined) config.credentials = this.#credentials;
    const interest = this.#interest;
    const link = new Link(socket, config, {
      onHandshake: () => {
        this.#opened++;
        interest.connected({
          recover: link.features.has(RECOVER),
          // Request ids go only to a hub that answered with the welcome's info form, which echoes them.
          subscribe: (topic, rid, since) =>
            link.control(encodeSub(topic, link.welcome === undefined ? undefined : rid, since)),
          unsubscribe: (topic) => link.control(["unsub", topic]),
        });
      },
      onSubscribed: (topic, rid, _link, info) => {
        const gap = interest.acked(topic, rid, info);
        if (gap !== undefined) this.emit(SUBSCRIPTION_GAP_EVENT, { topic, error: gap } satisfies SubscriptionGapDetail);
      },
      onSentAt: (topic, position) => interest.delivered(topic, position),
      onRefused: (action, topic, reason, message, rid) => this.#onRefused(action, topic, reason, message, rid),
      onOpen: () => {
        this.#state = "open";
        this.#reconnect.connected();
        // The events held meanwhile go out now (after the subscriptions), paced under the hub's announced limits.
        this.#pacer.limits(parseAnnouncedLimits(link.welcome?.limits));
        this.#pacer.resume();
        this.emit("open");
      },
      onEnvelope: (envelope, _frame, _link, position) => {
        const event = toEvent(envelope);
        if (position !== undefined) interest.delivered(event.type, position);
        this.dispatchLocal(event);
      },
      onClose: (info) => {
        if (this.#link === link) this.#link = undefined;
        this.#pacer.pause();
        interest.disconnected();
        this.#onClose(info, link);
      },
      onError: (error) => this.#reportError(error),
    });
    if (link.state !== "closed") this.#link = link;
  }

  #onRefused(action: HubAction, topic: string, reason: RefusalReason, message: string, rid?: number): void {
    const refusal = this.#interest.refusal(action, topic, reason, message, rid);
    if (refusal === undefined) return; // withdrawn meanwhile
    this.#reportError(refusal.error);
    if (refusal.subscriptionError !== undefined) this.emit(SUBSCRIPTION_ERROR_EVENT, refusal.subscriptionError);
  }

  #onClose(info: WebSocketCloseInfo, link?: Link): void {
    this.#reconnect.clear();
    if (this.#final !== undefined) return;
    const next = this.#reconnect.decide(this.#stopping, isFinalCloseCode(info.code));
    if (next.action === "refused") {
      const error = info.error ?? new WebSocketHandshakeError(info.code, info.reason);
      if (info.error === undefined) this.#reportError(error);
      this.#stop({ ...info, error }, link);
      return;
    }
    if (next.action === "stop") {
      this.#stop(info, link);
      return;
    }
    const { attempt, delay } = next;
    this.emit("disconnect", info);
    this.#state = "reconnecting";
    this.emit("reconnecting", { attempt, delay } satisfies WebSocketReconnectingDetail);
    if (this.#final === undefined && this.#retryTimer === undefined && this.#state === "reconnecting") {
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
    }
  }

  #stop(info: WebSocketCloseInfo, link: Link | undefined): void {
    if (this.#final !== undefined) return;
    this.#final = info;
    this.#state = "closed";
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#reconnect.clear();
    const held = this.#pacer.close();
    if (held > 0) {
      this.#counters.dropped += held;
      this.#reportError(new PubSubClosedError(`The WebSocket spoke stopped for good holding ${held} unsent events`));
    }
    this.#interest.close(closedError(info));
    // The one terminal "close": a pub/sub over the spoke ends its subscriptions here.
    this.emitClose(info);
    const socketClosed = link?.socketClosed ?? Promise.resolve();
    socketClosed.then(() => this.#resolveClosed(info));
  }

  #reportError(error: PubSubError): void {
    this.#options.onError(error);
    this.emit("error", error);
  }
}

/**
 * Dials a hub and keeps dialing: reconnects with capped, jittered exponential
 * backoff on any close except the spoke's own `close()` and the hub's final
 * codes (4400–4499, e.g. 4401 for refused credentials), which it reports as a
 * {@linkcode WebSocketHandshakeError}. Each passing drop dispatches
 * `"disconnect"`; stopping for good dispatches `"close"` once, which ends the
 * subscriptions of a pub/sub created over the spoke.
 *
 * @param url The hub's `ws:` or `wss:` URL (credentials never go in it; use `credentials`).
 * @param options Reconnect, handshake, limits and error handling.
 * @returns The spoke, already connecting.
 * @throws {TypeError} If `url` is not a ws:/wss: URL, or there is no WebSocket constructor.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { connectWebSocketEventTarget } from "@alkdev/pubsub/websocket";
 *
 * const eventTarget = connectWebSocketEventTarget("ws://127.0.0.1:8080", {
 *   credentials: { token: "secret" },
 * });
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 * const pings = pubsub.subscribe("ping", "1");
 * await pubsub.ready("ping", "1");
 * pubsub.publish("ping", "1", 1);
 * console.log((await pings.next()).value); // 1 (the publisher's own subscriber)
 * eventTarget.close();
 * ```
 */
export function connectWebSocketEventTarget(
  url: WebSocketSpokeUrl,
  options: WebSocketSpokeOptions = {},
): WebSocketSpoke {
  return new WebSocketSpoke(url, options);
}

/** The most events a spoke holds by default. */
const DEFAULT_SPOKE_OUTBOX_SIZE = 131_072;
/** The most bytes of events a spoke holds by default. */
const DEFAULT_SPOKE_OUTBOX_BYTES = 16 * 1024 * 1024;

function closedError(info: WebSocketCloseInfo): PubSubClosedError {
  return new PubSubClosedError(
    `The WebSocket spoke stopped with code ${info.code} (${JSON.stringify(info.reason)})`,
    { cause: info.error },
  );
}

function checkUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Expected a ws: or wss: URL, got ${JSON.stringify(String(url))}`);
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(parsed.protocol)) {
    throw new TypeError(`Expected a ws: or wss: URL, got ${JSON.stringify(String(url))}`);
  }
  return parsed.href;
}

function urlSource(url: WebSocketSpokeUrl): () => string | Promise<string> {
  if (typeof url === "function") {
    return () => {
      const next = url();
      return typeof next === "string" || next instanceof URL ? checkUrl(next) : Promise.resolve(next).then(checkUrl);
    };
  }
  if (typeof url === "string" || url instanceof URL) {
    const href = checkUrl(url);
    return () => href;
  }
  const list = url.map(checkUrl);
  if (list.length === 0) throw new TypeError("Expected at least one hub URL, got an empty list");
  let index = 0;
  return () => list[index++ % list.length];
}

// The spoke reads only an event's type and detail unless a local listener wants it: `createPubSub` publishes lite
// events here (core/lite_event.ts). A subclass overriding dispatchEvent gets real ones.
Object.defineProperty(WebSocketSpoke.prototype.dispatchEvent, LITE_EVENTS, { value: true });
