/**
 * `createIrohHub`: one event target over every iroh connection it accepts,
 * routed by interest (protocol version 2).
 *
 * @module
 */

import { PubSubError, type RefusalReason } from "../../core/errors.ts";
import { checkFrameSize } from "../../core/frame_size.ts";
import { encodeWelcome, grantFeatures, parseHello } from "../../core/handshake.ts";
import { HubEventTarget, type HubFrame } from "../../core/hub_event_target.ts";
import type { HubHistoryOptions, SubscribedInfo } from "../../core/hub_history.ts";
import type { Authorize, AuthorizeLimits, HubAction } from "../../core/hub_authorize.ts";
import type { HubPeer, HubRouter } from "../../core/hub_router.ts";
import { encodePositioned } from "../../core/stream_position.ts";
import type { StreamPosition } from "../../core/topic_history.ts";
import type { FrameCounters, HubStats } from "../../core/hub_stats.ts";
import type { HubSchemaOptions } from "../../core/payload_validation.ts";
import {
  DEFAULT_HUB_INBOUND_LIMITS,
  InboundRateLimiter,
  type InboundRateLimits,
} from "../../core/inbound_rate_limit.ts";
import { announcedLimits } from "../../core/send_pacer.ts";
import { strikesFor, StrikeWindow } from "../../core/strike_window.ts";
import { parseInterestRequest, SubRequests } from "../../core/sub_request.ts";
import type { EnvelopeEvent, TypedEventTarget } from "../../core/types.ts";
import { IROH_CLOSE_CODES, IrohConnectionError, IrohOutboxFullError, IrohProtocolError } from "./errors.ts";
import { admit, checkAllow, deferred, firstLine, IrohLink } from "./link.ts";
import {
  type IrohCloseInfo,
  type IrohEventTargetOptions,
  type ResolvedIrohOptions,
  resolveIrohOptions,
} from "./options.ts";
import {
  decodeData,
  encodeData,
  type Frame,
  frameLength,
  IROH_FEATURES,
  IROH_PROTOCOL_VERSION,
  isControl,
  parseControl,
  PONG,
} from "./protocol.ts";
import type { IrohConnectionLike } from "./types.ts";

/**
 * What `authorize` sees as a connection's context: the spoke's verified
 * EndpointId, plus the keys of the objects `allow` and `authenticate`
 * returned (if they returned objects; `authenticate`'s win). `endpointId` is
 * always the verified one.
 *
 * @typeParam TAuth What `allow`/`authenticate` return.
 *
 * @example
 * ```ts
 * import type { IrohHubContext } from "@alkdev/pubsub/iroh";
 *
 * const context: IrohHubContext<{ role: string }> = { endpointId: "b48dda4b…", role: "sensor" };
 * ```
 */
export type IrohHubContext<TAuth = Record<string, unknown>> = Partial<TAuth> & { endpointId: string };

/**
 * Options for {@linkcode createIrohHub}.
 *
 * @typeParam TAuth What `allow`/`authenticate` return for a connection.
 *
 * @example Known spokes; each reads only its own topics
 * ```ts
 * import type { IrohHubOptions } from "@alkdev/pubsub/iroh";
 *
 * const names = new Map([["b48dda4bbae76b048f15de93f1f5f4203ca7fe834cee0bd04a05a4293cc3a44a", "sensor-1"]]);
 * const options: IrohHubOptions<{ name: string }> = {
 *   allow: (endpointId) => names.has(endpointId) ? { name: names.get(endpointId)! } : false,
 *   authorize: ({ action, id, context }) => action === "publish" || id === context?.name,
 * };
 * ```
 */
export interface IrohHubOptions<TAuth = Record<string, unknown>>
  extends IrohEventTargetOptions, AuthorizeLimits, HubSchemaOptions {
  /**
   * Decides, before the stream is accepted, whether the spoke's EndpointId
   * (verified by the QUIC handshake) may connect. `true`, or an object whose
   * keys join the connection's context, accepts; anything else, a throw or a
   * rejection closes the connection with code 3 (`refused`), which stops the
   * spoke's retries.
   *
   * @default {every endpoint is allowed}
   */
  allow?: (endpointId: string) => boolean | Partial<TAuth> | Promise<boolean | Partial<TAuth>>;
  /**
   * Decides on the credentials of the spoke's hello, `["hello", 2, credentials]`
   * (`undefined` when it has none). `true`, or an object whose keys join the
   * context, accepts; anything else, a throw or a rejection closes with code 3.
   *
   * @default {every hello is accepted}
   */
  authenticate?: (
    credentials: unknown,
    endpointId: string,
  ) => boolean | Partial<TAuth> | Promise<boolean | Partial<TAuth>>;
  /**
   * Decides each subscribe and each publish of a connection. A refused
   * subscribe is answered `["subrefused", …]` and sends nothing for the
   * topic; a refused publish is dropped and answered `["pubrefused", …]`;
   * the connection stays open. A throw refuses and is reported to `onError`.
   *
   * @default {everything is allowed}
   */
  authorize?: Authorize<IrohHubContext<TAuth>>;
  /**
   * A shared target the hub publishes to and listens on (a Redis target, or
   * the same in-process target as a WebSocket hub's `upstream`), so several
   * hubs act as one. The hub never closes it.
   *
   * @default {none: the hub delivers within itself}
   */
  upstream?: TypedEventTarget<EnvelopeEvent>;
  /**
   * The most topics one connection may hold; one more is refused with
   * `"too-many-subscriptions"`.
   *
   * @default {4096}
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * The longest topic a connection may subscribe to, in UTF-16 code units.
   *
   * @default {1024}
   */
  maxTopicLength?: number;
  /**
   * Keep a bounded history per topic and let spokes that reconnect recover
   * what they missed (the `"recover"` feature): as the WebSocket hub's
   * `history`, see docs/architecture/hub.md#delivery-guarantees. `{}` turns it
   * on with the defaults (100 events and 2 minutes per topic, at most 10,000
   * topics and 32 MiB).
   *
   * @default {undefined: no history, at most once across drops}
   */
  history?: HubHistoryOptions;
  /**
   * Inbound rate limits per connection once its handshake is done, as token
   * buckets (frames and bytes, 4-byte prefixes included); past either, the
   * hub reports an `IrohConnectionError` and closes the connection with code
   * 8 (`rateLimited`); the spoke reconnects after its backoff. `false` turns
   * them off. A rate given without its burst gets a burst of twice the rate.
   *
   * @default {{ framesPerSecond: 25000, frameBurst: 100000, bytesPerSecond: 8388608, byteBurst: 16777216 }}
   */
  inboundLimits?: InboundRateLimits | false;
  /**
   * Invalid frames (not an envelope, not a known control frame) within
   * `invalidFrameWindow` ms that close the connection with code 8. Each one
   * before that is dropped and reported.
   *
   * @default {20}
   */
  maxInvalidFrames?: number;
  /**
   * The window of `maxInvalidFrames`, in ms.
   *
   * @default {10000}
   */
  invalidFrameWindow?: number;
}

interface PeerLimits {
  inbound: InboundRateLimits | undefined;
  maxInvalidFrames: number;
  invalidFrameWindow: number;
}

function resolveLimits(options: IrohHubOptions<never>, maxFrameBytes: number): PeerLimits {
  let inbound: InboundRateLimits | undefined;
  const given = options.inboundLimits;
  if (given !== false) {
    const framesPerSecond = given?.framesPerSecond ?? DEFAULT_HUB_INBOUND_LIMITS.framesPerSecond;
    const bytesPerSecond = given?.bytesPerSecond ?? DEFAULT_HUB_INBOUND_LIMITS.bytesPerSecond;
    inbound = {
      framesPerSecond,
      frameBurst: given?.frameBurst ??
        (given?.framesPerSecond === undefined ? DEFAULT_HUB_INBOUND_LIMITS.frameBurst : 2 * framesPerSecond),
      bytesPerSecond,
      byteBurst: given?.byteBurst ??
        (given?.bytesPerSecond === undefined ? DEFAULT_HUB_INBOUND_LIMITS.byteBurst : 2 * bytesPerSecond),
    };
    // Validates the rates and bursts now, not on the first connection.
    new InboundRateLimiter(inbound, maxFrameBytes + 4);
  }
  const maxInvalidFrames = options.maxInvalidFrames ?? 20;
  const invalidFrameWindow = options.invalidFrameWindow ?? 10_000;
  new StrikeWindow(maxInvalidFrames, invalidFrameWindow); // validates
  return { inbound, maxInvalidFrames, invalidFrameWindow };
}

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
 * One connection of an {@linkcode IrohHub}.
 *
 * @typeParam TAuth What `allow`/`authenticate` returned.
 *
 * @example
 * ```ts ignore
 * const connection = hub.accept(conn);
 * connection.closed.then(({ code }) => console.log(connection.endpointId, "left with", code));
 * ```
 */
export interface IrohHubConnection<TAuth = Record<string, unknown>> {
  /** The spoke's verified EndpointId. */
  readonly endpointId: string;
  /** The context `authorize` sees; `undefined` until the handshake is done. */
  readonly context: IrohHubContext<TAuth> | undefined;
  /** `"handshake"`, `"open"`, `"closing"` or `"closed"`. */
  readonly state: "handshake" | "open" | "closing" | "closed";
  /** The topics this connection holds (subscribed or being authorized). */
  readonly topics: number;
  /** Bytes queued for this connection, not yet handed to QUIC. */
  readonly bufferedBytes: number;
  /** Resolves (never rejects) once the connection has ended. */
  readonly closed: Promise<IrohCloseInfo>;
  /** Closes this connection gracefully (code 0); the spoke reconnects. */
  close(): Promise<void>;
}

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

/** What the hub shares with its connections. */
interface Shared<TAuth> {
  readonly router: HubRouter<Frame, IrohHubContext<TAuth>>;
  readonly counters: FrameCounters;
  readonly options: ResolvedIrohOptions;
  readonly limits: PeerLimits;
  /** The optional features the hub grants (`"recover"` only with `history`). */
  readonly features: readonly string[];
  /** Announced in each welcome: the inbound limits, so a library spoke paces itself under them. */
  readonly welcomeExtra: Record<string, unknown> | undefined;
  reportError(error: PubSubError): void;
  /** The hub's remote backlog: a connection reads on once the events of its last chunk are delivered. */
  backlog(): Promise<void> | undefined;
  connectionClosed(connection: Connection<TAuth>, info: IrohCloseInfo): void;
}

/**
 * The most reply bytes (`suback`, `subrefused`, `pubrefused`, prefixes
 * included) a connection may have queued while none of its queued bytes were
 * taken by QUIC (and its outbox was not empty); past it, the connection closes
 * with code 7 like a slow consumer. A peer that reads never comes near it: a
 * read chunk of requests (64 KiB) is answered before the next is read.
 */
const REPLY_BUDGET_BYTES = 256 * 1024;

class Connection<TAuth> implements IrohHubConnection<TAuth>, HubPeer<Frame> {
  readonly link: IrohLink;
  context: IrohHubContext<TAuth> | undefined;
  opened = false;
  #hub: Shared<TAuth>;
  /** The optional protocol features granted to this connection's spoke (core/handshake.ts). */
  features: ReadonlySet<string> = new Set();
  #hello = deferred<{ credentials: unknown; features: readonly string[] | undefined }>();
  #helloSeen = false;
  #limiter: InboundRateLimiter | undefined;
  #invalid: StrikeWindow | undefined;
  #replyBytes = 0;
  #replyMark = 0;
  #requests = new SubRequests();

  constructor(conn: IrohConnectionLike, hub: Shared<TAuth>) {
    this.#hub = hub;
    const inbound = hub.limits.inbound;
    if (inbound !== undefined) this.#limiter = new InboundRateLimiter(inbound, hub.options.maxFrameBytes + 4);
    this.#hello.promise.catch(() => {});
    this.link = new IrohLink(conn, hub.options, {
      onFrame: (frame) => this.#onFrame(frame),
      afterChunk: () => hub.backlog(),
      onClose: (info) => hub.connectionClosed(this, info),
    });
  }

  get endpointId(): string {
    return this.link.remoteId;
  }

  get state(): "handshake" | "open" | "closing" | "closed" {
    const state = this.link.state;
    return state === "opening" ? "handshake" : state;
  }

  get topics(): number {
    return this.#hub.router.topicsOf(this);
  }

  get bufferedBytes(): number {
    return this.link.bufferedBytes;
  }

  get closed(): Promise<IrohCloseInfo> {
    return this.link.closed;
  }

  close(): Promise<void> {
    return this.link.close();
  }

  /** The handshake: allow, accept the stream, the hello, authenticate, welcome. */
  async handshake(
    allow: IrohHubOptions<TAuth>["allow"],
    authenticate: IrohHubOptions<TAuth>["authenticate"],
    ms: number,
  ): Promise<void> {
    const link = this.link;
    let context = { endpointId: link.remoteId } as IrohHubContext<TAuth>;
    await link.open(async () => {
      if (allow !== undefined) context = merge(context, await checkAllow(link, allow, ms));
      await link.acceptStream();
      const { credentials, features } = await link.wait(this.#hello.promise, ms, "waiting for the spoke's hello");
      if (authenticate !== undefined) {
        const check = () => authenticate(credentials, link.remoteId);
        context = merge(
          context,
          await admit(link, "authenticate()", check, "authenticate() refused the credentials", ms),
        );
      }
      // Routing starts before the welcome goes out, so the spoke's first subscribe finds the connection attached.
      this.context = context;
      this.opened = true;
      this.#hub.router.attach(this, context);
      const granted = features && grantFeatures(features, this.#hub.features);
      link.write(encodeWelcome(granted, this.#hub.welcomeExtra));
      if (granted !== undefined && granted.length > 0) this.features = new Set(granted);
    });
  }

  #onFrame(frame: Uint8Array): void {
    const hub = this.#hub;
    hub.counters.framesIn++;
    hub.counters.bytesIn += frame.length + 4;
    if (!this.opened) {
      this.#onHandshakeFrame(frame);
      return;
    }
    // The per-connection inbound limits (core's, as on the WebSocket hub), before a frame is parsed or routed.
    const exceeded = this.#limiter?.admit(frame.length + 4);
    if (exceeded !== undefined) {
      const limit = hub.limits.inbound!;
      const rate = exceeded === "frames" ? `${limit.framesPerSecond} frames/s` : `${limit.bytesPerSecond} bytes/s`;
      this.#closeLimited(`${JSON.stringify(this.endpointId)} sent faster than ${rate}`);
      return;
    }
    if (frame.length === 0) return; // a keep-alive
    if (isControl(frame)) {
      this.#onControl(frame);
      return;
    }
    // The frame is a view of the link's reused read buffer: the router may keep it (an asynchronous authorize).
    const copy = frame.slice();
    let envelope;
    try {
      envelope = decodeData(copy, hub.options.codec, this.endpointId);
    } catch (error) {
      this.#invalidFrame(error as PubSubError, frame.length);
      return;
    }
    hub.router.publishFrom(this, envelope, copy);
  }

  #onHandshakeFrame(frame: Uint8Array): void {
    const link = this.link;
    if (this.#helloSeen) {
      link.fail(new IrohProtocolError("Received a frame before the handshake finished"), IROH_CLOSE_CODES.protocol);
      return;
    }
    this.#helloSeen = true;
    if (frame.length === 0 || !isControl(frame)) {
      const what = frame.length === 0 ? "a version 1 hello" : "a data frame before the hello";
      refuseVersion(link, `Received ${what}`);
      return;
    }
    let message: unknown[];
    try {
      message = parseControl(frame);
    } catch (error) {
      link.fail(error as PubSubError, IROH_CLOSE_CODES.protocol);
      return;
    }
    const hello = parseHello(message);
    if (hello.kind === "malformed") {
      link.fail(new IrohProtocolError(hello.reason), IROH_CLOSE_CODES.protocol);
      return;
    }
    if (hello.kind === "version") {
      refuseVersion(link, `Received a hello for protocol version ${hello.version}`);
      return;
    }
    this.#hello.resolve(hello);
  }

  #onControl(frame: Uint8Array): void {
    const hub = this.#hub;
    let message: unknown[];
    try {
      message = parseControl(frame);
    } catch (error) {
      this.#invalidFrame(error as PubSubError, frame.length);
      return;
    }
    if (message[0] === "hello") {
      // As on the WebSocket hub (4429): a second handshake closes the connection, here with code 2.
      this.link.fail(
        new IrohProtocolError(`${JSON.stringify(this.endpointId)} sent a second hello`),
        IROH_CLOSE_CODES.protocol,
      );
      return;
    }
    if (message[0] === "ping" && message.length === 1 && this.features.has("ping")) {
      this.#control(PONG); // bounded like every reply
      return;
    }
    const request = parseInterestRequest(message, this.recover);
    if (request === undefined) {
      this.#invalidFrame(
        new IrohProtocolError(`Unknown control frame ${JSON.stringify(message).slice(0, 120)}`),
        frame.length,
      );
      return;
    }
    this.#requests.note(request);
    if (request.tag === "sub") hub.router.subscribe(this, request.topic, request.since);
    else hub.router.unsubscribe(this, request.topic);
  }

  /**
   * Reports an invalid frame of `size` bytes; it counts one strike per started `STRIKE_BYTES` (64 KiB), and
   * `maxInvalidFrames` strikes within the window close the connection with code 8.
   */
  #invalidFrame(error: PubSubError, size = 0): void {
    const hub = this.#hub;
    hub.reportError(error);
    this.#strike(strikesFor(size));
  }

  /** Counts a reported invalid input (a frame, a publish refused for its payload) toward `maxInvalidFrames`. */
  #strike(weight = 1): void {
    const { maxInvalidFrames, invalidFrameWindow } = this.#hub.limits;
    this.#invalid ??= new StrikeWindow(maxInvalidFrames, invalidFrameWindow);
    if (this.#invalid.strike(weight)) {
      this.#closeLimited(
        `${JSON.stringify(this.endpointId)} sent ${maxInvalidFrames} invalid frames within ${invalidFrameWindow} ms`,
      );
    }
  }

  #closeLimited(message: string): void {
    const error = new IrohConnectionError(message, IROH_CLOSE_CODES.rateLimited);
    this.#hub.reportError(error);
    this.link.abort(IROH_CLOSE_CODES.rateLimited, "rate limited", error);
  }

  sendData(frame: Frame): void {
    this.#write(frame);
  }

  get recover(): boolean {
    return this.features.has("recover");
  }

  subscribed(topic: string, info?: SubscribedInfo): void {
    if (this.link.state === "open") this.#control(this.#requests.suback(topic, info));
  }

  sentAt(topic: string, position: StreamPosition): void {
    if (this.link.state === "open") this.#control(JSON.stringify(["sent", topic, position]));
  }

  refused(action: HubAction, topic: string, reason: RefusalReason, message: string): void {
    if (this.link.state === "open") this.#control(this.#requests.refusal(action, topic, reason, message));
    if (reason === "invalid-payload") this.#strike(); // reported by the router
  }

  #control(frame: string): void {
    const link = this.link;
    // Replies queued since the outbox last moved: a peer that asks and never reads runs out of this first.
    const written = link.writtenBytes;
    if (written !== this.#replyMark || link.bufferedBytes === 0) {
      this.#replyMark = written;
      this.#replyBytes = 0;
    }
    this.#replyBytes += frame.length + 4;
    if (this.#replyBytes > REPLY_BUDGET_BYTES) {
      this.#slowConsumer(new IrohOutboxFullError(link.bufferedBytes, REPLY_BUDGET_BYTES));
      return;
    }
    this.#write(frame);
  }

  #slowConsumer(error: IrohOutboxFullError): void {
    const hub = this.#hub;
    hub.counters.dropped++;
    hub.reportError(error);
    this.link.abort(IROH_CLOSE_CODES.slowConsumer, "slow consumer", error);
  }

  /**
   * Queues a frame, data or reply alike, unless the connection's outbox
   * already holds `maxOutboxBytes`: then the connection is too slow and closes
   * with code 7.
   */
  #write(frame: Frame): void {
    const link = this.link;
    if (link.state !== "open") return;
    const hub = this.#hub;
    const buffered = link.bufferedBytes;
    const limit = hub.options.maxOutboxBytes;
    if (buffered >= limit) {
      this.#slowConsumer(new IrohOutboxFullError(buffered, limit));
      return;
    }
    try {
      link.write(frame);
    } catch (error) {
      // Only a frame from a shared upstream can exceed this hub's maxFrameBytes.
      if (error instanceof PubSubError) hub.reportError(error);
      return;
    }
    const counters = hub.counters;
    counters.framesOut++;
    counters.bytesOut += frameLength(frame) + 4;
  }
}

function merge<TAuth>(context: IrohHubContext<TAuth>, verdict: unknown): IrohHubContext<TAuth> {
  if (verdict === null || typeof verdict !== "object") return context;
  return { ...context, ...verdict, endpointId: context.endpointId };
}

function refuseVersion(link: IrohLink, what: string): void {
  const reason = `protocol version ${IROH_PROTOCOL_VERSION} required`;
  link.abort(
    IROH_CLOSE_CODES.unsupportedProtocol,
    reason,
    new IrohConnectionError(`${what}: ${reason}`, IROH_CLOSE_CODES.unsupportedProtocol),
  );
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
