/**
 * `connectIrohEventTarget`: the reconnecting iroh spoke (protocol version 2).
 *
 * @module
 */

import type { BackoffOptions } from "../../core/backoff.ts";
import { Heartbeat, type HeartbeatTiming } from "../../core/heartbeat.ts";
import { ReconnectPolicy } from "../../core/reconnect.ts";
import { PubSubClosedError, type PubSubError } from "../../core/errors.ts";
import { checkFrameSize } from "../../core/frame_size.ts";
import { encodeHello, parseWelcome, type WelcomeInfo } from "../../core/handshake.ts";
import type { SpokeStats } from "../../core/hub_stats.ts";
import { RemoteInterest } from "../../core/remote_interest.ts";
import { parseAnnouncedLimits, SendPacer } from "../../core/send_pacer.ts";
import { encodeSub, parseHubAnswer } from "../../core/sub_request.ts";
import { SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "../../core/subscription_gap.ts";
import { topicFor } from "../../core/topic.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import { type EnvelopeEvent, isTopic, SUBSCRIPTION_ERROR_EVENT, type SubscriptionReadiness } from "../../core/types.ts";
import {
  IROH_CLOSE_CODES,
  IrohConnectionError,
  IrohOutboxFullError,
  IrohOutboxOverflowError,
  IrohProtocolError,
  isFinalIrohCloseCode,
} from "./errors.ts";
import { closeQuietly, deferred, firstLine, IrohLink } from "./link.ts";
import {
  type IrohCloseInfo,
  type IrohEventTargetOptions,
  positiveInt,
  type ResolvedIrohOptions,
  resolveIrohOptions,
} from "./options.ts";
import {
  decodeDataAt,
  encodeData,
  type Frame,
  frameLength,
  IROH_FEATURES,
  IROH_PROTOCOL_VERSION,
  isControl,
  parseControl,
  PING,
} from "./protocol.ts";
import type { IrohConnectionLike } from "./types.ts";

/**
 * Returns a new connection to the hub for each attempt, for example
 * `() => endpoint.connect(hubAddr, alpn)`. It may look the hub's address up
 * again each time (a hub that restarted on another port, a list of hubs).
 *
 * @example
 * ```ts ignore
 * import type { IrohDial } from "@alkdev/pubsub/iroh";
 *
 * const dial: IrohDial = () => endpoint.connect(new EndpointAddr(hubId, null, addrs), alpn);
 * ```
 */
export type IrohDial = () => IrohConnectionLike | Promise<IrohConnectionLike>;

/**
 * Options for {@linkcode connectIrohEventTarget}.
 *
 * @example
 * ```ts
 * import type { IrohSpokeOptions } from "@alkdev/pubsub/iroh";
 *
 * const options: IrohSpokeOptions = {
 *   credentials: () => ({ token: "secret" }),
 *   backoff: { initialDelay: 250, maxDelay: 10_000 },
 *   outboxSize: 256,
 * };
 * ```
 */
export interface IrohSpokeOptions extends IrohEventTargetOptions {
  /**
   * Credentials sent in the hello that opens every connection,
   * `["hello", 2, credentials]` (JSON), checked by the hub's `authenticate`.
   * A function is called for each connection and may return a promise.
   */
  credentials?: unknown;
  /** Reconnect timing (full jitter unless `backoff.jitter` says otherwise). */
  backoff?: BackoffOptions;
  /**
   * Consecutive reconnects to try before giving up; the count resets once a
   * connection stays open for `backoff.resetAfter`.
   *
   * @default {Infinity}
   */
  maxAttempts?: number;
  /**
   * The most events held while no connection is open, or while the spoke
   * paces itself under the hub's announced inbound limits (held bytes are
   * bounded by `maxOutboxBytes` too). When full, the oldest is dropped,
   * counted in `stats().dropped`, and `onError` gets one
   * {@linkcode IrohOutboxOverflowError} until the backlog drains.
   *
   * @default {131072}
   */
  outboxSize?: number;
  /**
   * Notices a dead hub sooner than QUIC does (its idle timeout, about 30 s,
   * is all that tells a spoke its hub was killed or cut off): with a hub
   * that grants the `"ping"` feature, an interval without any frame from the
   * hub sends `["ping"]`; if nothing comes within `timeout` after it, the
   * connection is closed with code 4 (`timeout`), an
   * {@linkcode IrohConnectionError} goes to `onError`, and the spoke
   * reconnects. A dead hub is so noticed within 2 × `interval` + `timeout`.
   * `false` sends no pings.
   *
   * @default {{ interval: 5000, timeout: 5000 }}
   */
  heartbeat?: HeartbeatTiming | false;
}

/**
 * The spoke's state: `"connecting"` (dialing or in the handshake), `"open"`,
 * `"reconnecting"` (waiting for the next attempt) or `"closed"` (for good).
 *
 * @example
 * ```ts
 * import type { IrohSpokeState } from "@alkdev/pubsub/iroh";
 *
 * const state: IrohSpokeState = "reconnecting";
 * ```
 */
export type IrohSpokeState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * The detail of the spoke's `"reconnecting"` event.
 *
 * @example
 * ```ts
 * import type { IrohReconnectingDetail } from "@alkdev/pubsub/iroh";
 *
 * const detail: IrohReconnectingDetail = { attempt: 1, delay: 420 };
 * ```
 */
export interface IrohReconnectingDetail {
  /** The retry number since the last stable connection, from 1. */
  attempt: number;
  /** Milliseconds until the attempt. */
  delay: number;
}

/**
 * The spoke's counters, from {@linkcode IrohSpoke.stats}: see
 * {@linkcode SpokeStats}. Byte counts include the 4-byte prefixes; `dropped`
 * counts events dropped from a full outbox.
 *
 * @example
 * ```ts ignore
 * console.log(spoke.stats().reconnects);
 * ```
 */
export type IrohSpokeStats = SpokeStats;

/**
 * A reconnecting iroh event target. Local listeners live on the spoke, not
 * the connection, so they survive reconnects. The spoke tells the hub which
 * topics its listeners want (`["sub", topic]` on a topic's first listener,
 * `["unsub", topic]` when it loses its last), and the hub sends it only
 * those. After each (re)connect it announces them all again before anything
 * else. While no connection is open, events wait in a bounded outbox (oldest
 * dropped first) and are sent, in order, once the next connection is open
 * and its subscriptions are announced.
 *
 * Reserved, non-topic event names:
 * - `"connect"`: each connection is open (handshake included);
 * - `"disconnect"` (detail {@linkcode IrohCloseInfo}): a connection, or an
 *   attempt to make one, ended and the spoke will try again; `"reconnecting"`
 *   follows;
 * - `"reconnecting"` (detail {@linkcode IrohReconnectingDetail});
 * - `"close"` (detail {@linkcode IrohCloseInfo}): once, when the spoke stops
 *   for good: its own `close()`, a refusal from the hub (code 3 or 6), or
 *   `maxAttempts` used up;
 * - `"error"` (detail the {@linkcode PubSubError});
 * - `"subscription-error"` (`SUBSCRIPTION_ERROR_EVENT`): the hub refused a topic.
 *
 * @example
 * ```ts ignore
 * import { connectIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const spoke = connectIrohEventTarget(() => endpoint.connect(hubAddr, alpn));
 * spoke.addEventListener("disconnect", (event) => console.log("dropped, will retry", event.detail));
 * spoke.addEventListener("close", (event) => console.log("stopped for good", event.detail));
 * ```
 */
export class IrohSpoke extends TransportEventTarget implements SubscriptionReadiness {
  #dial: IrohDial;
  #options: ResolvedIrohOptions;
  #credentials: (() => unknown) | undefined;
  #reconnect: ReconnectPolicy;
  #outboxSize: number;
  /** Events waiting for a connection, or for the hub's announced inbound limits. */
  #pacer: SendPacer<Frame>;
  #drainWaiters: (() => void)[] = [];
  #counters = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, dropped: 0 };
  #interest = new RemoteInterest();
  #link: IrohLink | undefined;
  /** The current connection's welcome info (`undefined` for a bare welcome) and granted features. */
  #welcome: WelcomeInfo | undefined;
  #features: ReadonlySet<string> = new Set();
  #open = false;
  #opened = 0;
  #state: IrohSpokeState = "connecting";
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  #final: IrohCloseInfo | undefined;
  #closed = deferred<IrohCloseInfo>();
  #heartbeat: Heartbeat | undefined;

  /**
   * Starts dialing; prefer {@linkcode connectIrohEventTarget}.
   *
   * @param dial Returns a new connection to the hub for each attempt.
   * @param options Credentials, reconnect timing, limits and error handling.
   */
  constructor(dial: IrohDial, options: IrohSpokeOptions = {}) {
    super(options);
    this.#dial = dial;
    this.#options = resolveIrohOptions(options);
    const credentials = options.credentials;
    if (credentials !== undefined) {
      this.#credentials = typeof credentials === "function" ? credentials as () => unknown : () => credentials;
    }
    this.#reconnect = new ReconnectPolicy(options.backoff, "full", options.maxAttempts);
    this.#outboxSize = positiveInt("outboxSize", options.outboxSize, 131_072);
    if (options.heartbeat !== false) {
      this.#heartbeat = new Heartbeat(options.heartbeat ?? {}, this.#ping, this.#silent);
    }
    this.#pacer = new SendPacer<Frame>({
      size: (frame) => frameLength(frame) + 4,
      transmit: (frame) => this.#write(this.#link!, frame),
      ready: () => this.#open && this.#link !== undefined,
      maxFrames: this.#outboxSize,
      maxBytes: this.#options.maxOutboxBytes,
      onDrop: (count, first) => {
        this.#counters.dropped += count;
        if (first) this.#reportError(new IrohOutboxOverflowError(this.#outboxSize));
      },
      onDrain: () => {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const waiter of waiters) waiter();
        this.emit("drain");
      },
    });
    this.#connect();
  }

  /** The spoke's state. */
  get state(): IrohSpokeState {
    return this.#state;
  }

  /** The hub's EndpointId on the current connection, if one is open. */
  get remoteId(): string | undefined {
    return this.#open ? this.#link?.remoteId : undefined;
  }

  /** Resolves once the spoke has stopped for good and its last connection has ended. */
  get closed(): Promise<IrohCloseInfo> {
    return this.#closed.promise;
  }

  /**
   * The spoke's counters.
   *
   * @returns A snapshot.
   */
  stats(): IrohSpokeStats {
    return { reconnects: Math.max(0, this.#opened - 1), topics: this.#interest.size, ...this.#counters };
  }

  /**
   * Delivers `event` to local listeners and sends its envelope to the hub:
   * at once if open, through the outbox otherwise; dropped once closed for good.
   *
   * @throws {EnvelopeError} If `event.detail` is not an envelope for `event.type`.
   * @throws {FrameTooLargeError} If the encoded envelope exceeds `maxFrameBytes`; nothing is delivered.
   * @throws {IrohOutboxFullError} If the open connection already holds `maxOutboxBytes` unsent; nothing is delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    if (!isTopic(event.type)) return this.dispatchLocal(event);
    const frame = encodeData(event, this.#options.codec);
    // A connection that is closing takes no more: the event waits for the next one. (Between the welcome and the
    // end of the handshake's continuation the link is still "opening" but already announced and flushed.)
    const state = this.#link?.state;
    const link = this.#open && (state === "open" || state === "opening") ? this.#link : undefined;
    if (link !== undefined) {
      const buffered = link.bufferedBytes;
      if (buffered >= this.#options.maxOutboxBytes) {
        throw new IrohOutboxFullError(buffered, this.#options.maxOutboxBytes);
      }
    }
    checkFrameSize(frame, this.#options.maxFrameBytes); // before anything is delivered
    // Sent at once if nothing waits and the hub's announced limits allow; held otherwise.
    if (this.#final === undefined) this.#pacer.push(frame);
    return this.dispatchLocal(event);
  }

  /**
   * Bytes (4-byte prefixes included) of events the spoke holds and has not
   * yet handed to the connection: waiting for a connection or for the hub's
   * announced inbound limits. A `"drain"` event follows when it empties.
   *
   * @example
   * ```ts ignore
   * if (spoke.bufferedAmount > 1024 * 1024) await new Promise((r) => spoke.addEventListener("drain", r, { once: true }));
   * ```
   */
  get bufferedAmount(): number {
    return this.#pacer.bytes;
  }

  /**
   * Settles once `topic` is live: the hub acknowledged it on the current
   * connection (for a topic no listener wants, once a connection is open).
   * Rejects with the {@linkcode SubscriptionRefusedError} if the hub refuses
   * it, and with {@linkcode PubSubClosedError} if the spoke stops first.
   *
   * @param topic The topic.
   */
  ready(topic: string): Promise<void> {
    return this.#interest.ready(topic);
  }

  /**
   * Stops for good: closes the connection gracefully (everything published
   * before is delivered) and cancels any pending attempt. Idempotent.
   *
   * @returns Settles once the last connection has ended.
   */
  close(): Promise<void> {
    if (this.#final === undefined && !this.#stopping) {
      this.#stopping = true;
      const link = this.#link;
      // Graceful: the events the spoke still holds (paced) go first.
      if (link !== undefined && this.#open && this.#pacer.length > 0) this.#drainWaiters.push(() => void link.close());
      else if (link !== undefined) void link.close();
      else if (this.#state !== "connecting") {
        this.#stop({ code: IROH_CLOSE_CODES.normal, reason: "closed", error: undefined });
      }
    }
    return this.#closed.promise.then(() => {});
  }

  /** Announces topics as local listeners come and go. @internal */
  protected override onTopicInterest(topic: string, interested: boolean): void {
    if (interested) this.#interest.want(topic);
    else this.#interest.unwant(topic);
  }

  #write(link: IrohLink, frame: Frame): void {
    link.write(frame);
    const size = frameLength(frame) + 4;
    this.#counters.framesOut++;
    this.#counters.bytesOut += size;
    this.#pacer.charge(size);
  }

  #connect(): void {
    this.#retryTimer = undefined;
    this.#state = "connecting";
    let dialed: Promise<IrohConnectionLike>;
    try {
      dialed = Promise.resolve(this.#dial());
    } catch (cause) {
      dialed = Promise.reject(cause);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ms = this.#options.handshakeTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms dialing the hub`)), ms);
    });
    Promise.race([dialed, timeout]).finally(() => clearTimeout(timer)).then(
      (conn) => {
        if (this.#stopping) {
          closeQuietly(conn);
          this.#stop({ code: IROH_CLOSE_CODES.normal, reason: "closed", error: undefined });
        } else this.#handshake(conn);
      },
      (cause) => {
        // A dial that resolves after its timeout is closed at once.
        dialed.then(closeQuietly, () => {});
        const error = new IrohConnectionError(`Cannot dial the hub: ${firstLine(cause)}`, undefined, { cause });
        this.#ended({ code: undefined, reason: error.message, error });
      },
    );
  }

  #handshake(conn: IrohConnectionLike): void {
    const welcome = deferred<void>();
    welcome.promise.catch(() => {});
    let welcomed = false;
    const link: IrohLink = new IrohLink(conn, this.#options, {
      onFrame: (frame) => {
        this.#heartbeat?.seen();
        this.#counters.framesIn++;
        this.#counters.bytesIn += frame.length + 4;
        if (welcomed) this.#onFrame(frame, link);
        else if (this.#onWelcome(frame, link)) {
          welcomed = true;
          welcome.resolve();
        }
      },
      afterChunk: () => this.remoteBacklog(),
      onClose: (info) => this.#onLinkClose(info, link),
    });
    this.#link = link;
    const ms = this.#options.handshakeTimeoutMs;
    link.open(async () => {
      const credentials = this.#credentials;
      this.#write(
        link,
        encodeHello(credentials === undefined ? undefined : (await credentials()) ?? null, IROH_FEATURES),
      );
      await link.openStream();
      await link.wait(welcome.promise, ms, "waiting for the hub's welcome");
      // Subscriptions first, then the events published while disconnected.
      this.#open = true;
      this.#opened++;
      if (this.#features.has("ping")) this.#heartbeat?.start();
      this.#interest.connected({
        recover: this.#features.has("recover"),
        // Request ids go only to a hub that answered with the welcome's info form, which echoes them.
        subscribe: (topic, rid, since) =>
          this.#write(link, encodeSub(topic, this.#welcome === undefined ? undefined : rid, since)),
        unsubscribe: (topic) => this.#write(link, JSON.stringify(["unsub", topic])),
      });
      this.#pacer.limits(parseAnnouncedLimits(this.#welcome?.limits));
      this.#pacer.resume();
    }).then(() => {
      if (link.state !== "open") return;
      this.#state = "open";
      this.#reconnect.connected();
      this.emit("connect");
    }, () => {
      // The link has ended: #onLinkClose handles it.
    });
  }

  /** A frame before the welcome: returns whether it was the welcome. */
  #onWelcome(frame: Uint8Array, link: IrohLink): boolean {
    if (frame.length === 0) {
      // A version 1 hub (a per-connection target) answers the stream with a zero-length hello.
      const reason = `protocol version ${IROH_PROTOCOL_VERSION} required`;
      const error = new IrohConnectionError(
        `The hub speaks protocol version 1: ${reason}`,
        IROH_CLOSE_CODES.unsupportedProtocol,
      );
      link.abort(IROH_CLOSE_CODES.unsupportedProtocol, reason, error);
      return false;
    }
    let message: unknown[] | undefined;
    try {
      message = isControl(frame) ? parseControl(frame) : undefined;
    } catch {
      message = undefined;
    }
    const welcome = message === undefined ? undefined : parseWelcome(message);
    if (welcome?.kind === "welcome") {
      this.#welcome = welcome.info;
      this.#features = new Set(welcome.info?.features);
      return true;
    }
    if (welcome?.kind === "version") {
      const reason = `protocol version ${IROH_PROTOCOL_VERSION} required`;
      link.abort(
        IROH_CLOSE_CODES.unsupportedProtocol,
        reason,
        new IrohConnectionError(`The hub speaks protocol version ${welcome.version}: ${reason}`, 6),
      );
      return false;
    }
    link.fail(new IrohProtocolError("Expected the hub's welcome"), IROH_CLOSE_CODES.protocol);
    return false;
  }

  #onFrame(frame: Uint8Array, link: IrohLink): void {
    if (frame.length === 0) return; // a keep-alive
    if (isControl(frame)) {
      this.#onControl(frame);
      return;
    }
    let decoded;
    try {
      decoded = decodeDataAt(frame, this.#options.codec, link.remoteId, this.#features.has("recover"));
    } catch (error) {
      this.#reportError(error as PubSubError);
      return;
    }
    const { envelope, position } = decoded;
    const topic = topicFor(envelope.type, envelope.id);
    if (position !== undefined) this.#interest.delivered(topic, position);
    this.deliverRemote(new CustomEvent(topic, { detail: envelope }) as EnvelopeEvent);
  }

  #onControl(frame: Uint8Array): void {
    let message: unknown[];
    try {
      message = parseControl(frame);
    } catch (error) {
      this.#reportError(error as PubSubError);
      return;
    }
    if (message[0] === "pong" && message.length === 1) return; // its arrival was the point
    const parsed = parseHubAnswer(message, this.#features.has("recover"));
    if (parsed === undefined) {
      this.#reportError(new IrohProtocolError(`Unknown control frame ${JSON.stringify(message).slice(0, 120)}`));
      return;
    }
    if (parsed.tag === "suback") {
      const gap = this.#interest.acked(parsed.topic, parsed.rid, parsed.info);
      if (gap !== undefined) {
        this.emit(SUBSCRIPTION_GAP_EVENT, { topic: parsed.topic, error: gap } satisfies SubscriptionGapDetail);
      }
      return;
    }
    if (parsed.tag === "sent") {
      this.#interest.delivered(parsed.topic, parsed.position);
      return;
    }
    const answer = this.#interest.refusal(parsed.action, parsed.topic, parsed.reason, parsed.message, parsed.rid);
    if (answer === undefined) return; // withdrawn meanwhile
    this.#reportError(answer.error);
    if (answer.subscriptionError !== undefined) this.emit(SUBSCRIPTION_ERROR_EVENT, answer.subscriptionError);
  }

  #ping = (): void => {
    const link = this.#link;
    if (link !== undefined && link.state === "open") this.#write(link, PING);
  };

  /** The heartbeat's verdict: nothing came from the hub within the timeout after a ping. */
  #silent = (): void => {
    const heartbeat = this.#heartbeat!;
    const silence = heartbeat.interval + heartbeat.timeout;
    this.#link?.fail(
      new IrohConnectionError(`No frame from the hub within ${silence} ms, a ping included`, IROH_CLOSE_CODES.timeout),
      IROH_CLOSE_CODES.timeout,
    );
  };

  #onLinkClose(info: IrohCloseInfo, link: IrohLink): void {
    if (this.#link !== link) return;
    this.#heartbeat?.stop();
    this.#link = undefined;
    this.#open = false;
    this.#pacer.pause();
    this.#drainWaiters = [];
    this.#interest.disconnected();
    this.#ended(info);
  }

  /** A connection or an attempt ended: retry, or stop for good. */
  #ended(info: IrohCloseInfo): void {
    this.#reconnect.clear();
    if (this.#final !== undefined) return;
    const next = this.#reconnect.decide(this.#stopping, isFinalIrohCloseCode(info.code));
    if (next.action !== "retry") {
      if (next.action === "refused" && info.error !== undefined) this.#reportError(info.error);
      this.#stop(info);
      return;
    }
    const { attempt, delay } = next;
    this.emit("disconnect", info);
    this.#state = "reconnecting";
    this.emit("reconnecting", { attempt, delay } satisfies IrohReconnectingDetail);
    if (this.#final === undefined && this.#retryTimer === undefined && this.#state === "reconnecting") {
      // A timer even for a zero delay: a dial that fails at once must not retry in a loop that never yields.
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
    }
  }

  #stop(info: IrohCloseInfo): void {
    if (this.#final !== undefined) return;
    this.#final = info;
    this.#state = "closed";
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#reconnect.clear();
    const held = this.#pacer.close();
    if (held > 0) {
      this.#counters.dropped += held;
      this.#reportError(new PubSubClosedError(`The iroh spoke stopped for good holding ${held} unsent events`));
    }
    this.#interest.close(
      new PubSubClosedError(`The iroh spoke stopped with code ${info.code} (${JSON.stringify(info.reason)})`, {
        cause: info.error,
      }),
    );
    // The one terminal "close": a pub/sub over the spoke ends its subscriptions here.
    this.emitClose(info);
    this.#closed.resolve(info);
  }

  #reportError(error: PubSubError): void {
    this.#options.report(error);
    this.emit("error", error);
  }
}

/**
 * Dials a hub ({@linkcode createIrohHub}) and keeps dialing: `dial()` is
 * called for each attempt and returns a new connection. Reconnects with
 * capped, fully jittered exponential backoff on any end except the spoke's
 * own `close()` and the hub's refusals (close code 3, `allow` or
 * `authenticate` refused; 6, another protocol version), which stop it.
 *
 * @param dial Returns a new connection to the hub, e.g. `() => endpoint.connect(hubAddr, alpn)`.
 * @param options Credentials, reconnect timing, limits and error handling.
 * @returns The spoke, already dialing.
 * @throws {RangeError} If an option is invalid.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { connectIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const eventTarget = connectIrohEventTarget(() => endpoint.connect(new EndpointAddr(hubId, null, addrs), alpn));
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 * const pings = pubsub.subscribe("ping", "1");
 * await pubsub.ready("ping", "1");
 * pubsub.publish("ping", "1", 1);
 * await eventTarget.close();
 * ```
 */
export function connectIrohEventTarget(dial: IrohDial, options: IrohSpokeOptions = {}): IrohSpoke {
  return new IrohSpoke(dial, options);
}
