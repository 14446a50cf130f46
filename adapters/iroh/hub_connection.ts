/**
 * One connection of an iroh hub: its handshake (allow, hello, authenticate,
 * welcome), its inbound limits and invalid-frame strikes, its control frames,
 * and what the router sends it.
 *
 * @module
 */

import { PubSubError, type RefusalReason } from "../../core/errors.ts";
import { encodeWelcome, grantFeatures, parseHello } from "../../core/handshake.ts";
import type { HubAction } from "../../core/hub_authorize.ts";
import type { SubscribedInfo } from "../../core/hub_history.ts";
import type { HubPeer, HubRouter } from "../../core/hub_router.ts";
import type { StreamPosition } from "../../core/topic_history.ts";
import type { FrameCounters } from "../../core/hub_stats.ts";
import { InboundRateLimiter } from "../../core/inbound_rate_limit.ts";
import { strikesFor, StrikeWindow } from "../../core/strike_window.ts";
import { parseInterestRequest, SubRequests } from "../../core/sub_request.ts";
import { IROH_CLOSE_CODES, IrohConnectionError, IrohOutboxFullError, IrohProtocolError } from "./errors.ts";
import { admit, checkAllow, deferred, IrohLink } from "./link.ts";
import type { IrohCloseInfo, ResolvedIrohOptions } from "./options.ts";
import {
  decodeData,
  type Frame,
  frameLength,
  IROH_PROTOCOL_VERSION,
  isControl,
  parseControl,
  PONG,
} from "./protocol.ts";
import type { IrohConnectionLike } from "./types.ts";
import type { IrohHubContext, IrohHubOptions, PeerLimits } from "./hub_options.ts";

/**
 * One connection of an iroh hub (`createIrohHub`).
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

/** What the hub shares with its connections. */
export interface Shared<TAuth> {
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

export class Connection<TAuth> implements IrohHubConnection<TAuth>, HubPeer<Frame> {
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

export function refuseVersion(link: IrohLink, what: string): void {
  const reason = `protocol version ${IROH_PROTOCOL_VERSION} required`;
  link.abort(
    IROH_CLOSE_CODES.unsupportedProtocol,
    reason,
    new IrohConnectionError(`${what}: ${reason}`, IROH_CLOSE_CODES.unsupportedProtocol),
  );
}
