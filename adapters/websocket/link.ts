/**
 * One WebSocket connection's protocol machinery (protocol version 2), shared
 * by the hub's connections and the spoke: frames, handshake, heartbeat, size
 * limit, backpressure and the outbox. Not exported from the package.
 *
 * Frames (see docs/architecture/websocket.md):
 * - data: the codec's encoding of one envelope (JSON text by default);
 * - control: a JSON array text frame whose first element names it:
 *   `["hello", 2, credentials?, options?]`, `["welcome", 2, info?]` (core/handshake.ts), `["sub", topic]`,
 *   `["unsub", topic]`, `["suback", topic]`,
 *   `["subrefused", topic, reason, message]`,
 *   `["pubrefused", topic, reason, message]`, `["ping"]`, `["pong"]`.
 *
 * @module
 */

import { type Codec, decodeEnvelope, outgoingEnvelope } from "../../core/envelope.ts";
import type { SubscribedInfo } from "../../core/hub_history.ts";
import { decodePositioned } from "../../core/stream_position.ts";
import type { StreamPosition } from "../../core/topic_history.ts";
import { checkFrameSize, utf8Length } from "../../core/frame_size.ts";
import { parseBoundedJson } from "../../core/json_depth.ts";
import { HeartbeatQueue } from "../../core/heartbeat_queue.ts";
import { isLiteEvent } from "../../core/lite_event.ts";
import { parseHubAnswer, parseInterestRequest, SubRequests } from "../../core/sub_request.ts";
import {
  encodeHello,
  encodeWelcome,
  grantFeatures,
  parseHello,
  parseWelcome,
  PROTOCOL_VERSION,
  type WelcomeInfo,
} from "../../core/handshake.ts";
import { EnvelopeError, FrameTooLargeError, type PubSubError, type RefusalReason } from "../../core/errors.ts";
import type { FairLane, FairScheduler } from "../../core/fair_scheduler.ts";
import type { HubAction } from "../../core/hub_authorize.ts";
import type { FrameCounters } from "../../core/hub_stats.ts";
import { type InboundRateExceeded, InboundRateLimiter } from "../../core/inbound_rate_limit.ts";
import { SendBudget } from "../../core/send_budget.ts";
import { strikesFor, StrikeWindow } from "../../core/strike_window.ts";
import { describe, topicFor } from "../../core/topic.ts";
import type { EnvelopeEvent, EventEnvelope } from "../../core/types.ts";
import { CloseCode, isFinalCloseCode } from "./close_codes.ts";
import {
  WebSocketBackpressureError,
  WebSocketHandshakeError,
  WebSocketHeartbeatError,
  WebSocketProtocolError,
  WebSocketRateLimitError,
} from "./errors.ts";
import type { ResolvedCommonOptions, ResolvedPeerLimits, WebSocketCloseInfo } from "./options.ts";
import { CLOSED, CLOSING, type Frame, OPEN, type WebSocketEventLike, type WebSocketLike } from "./socket.ts";
import { Outbox } from "./outbox.ts";
import { isWsServerSocket, sendWsText } from "./ws_text.ts";

/**
 * The state of one connection: `"connecting"` until the socket opens,
 * `"handshake"` until the hello is answered, `"open"`, then `"closed"`.
 *
 * @example
 * ```ts
 * import type { WebSocketConnectionState } from "@alkdev/pubsub/websocket";
 *
 * const state: WebSocketConnectionState = "open";
 * ```
 */
export type WebSocketConnectionState = "connecting" | "handshake" | "open" | "closed";

export type { Frame } from "./socket.ts";

const PING = '["ping"]';
const PONG = '["pong"]';
const BRACKET = 91; // "["

const NO_FEATURES: ReadonlySet<string> = new Set();

/** The feature of stream positions and recovery (issue 20): positioned data frames, `sub`/`suback` with positions. */
export const RECOVER = "recover";

/**
 * The optional protocol features (core/handshake.ts) this adapter implements:
 * what its spokes ask for in the hello and what its hubs grant.
 */
export const FEATURES: readonly string[] = ["close", RECOVER];

/**
 * How long a hub waits, after announcing a final close with
 * `["close", code, reason]`, for the peer to close the socket itself before
 * closing it.
 */
export const CLOSE_ANNOUNCE_GRACE_MS = 1_000;

/** Whether the hub announces a close with `code` (final codes, 4008 and 4009) to a peer with the "close" feature. */
function announced(code: number): boolean {
  return isFinalCloseCode(code) || code === CloseCode.RateLimited || code === CloseCode.MessageTooBig;
}

/** Counters a link adds to: frames and bytes each way (text frames count UTF-16 code units). */
export type LinkCounters = FrameCounters;

/** What a link needs beyond the common options. */
export interface LinkConfig extends ResolvedCommonOptions {
  /** `"dial"`: sends `["hello", …]` and waits for `["welcome", 2]`; `"accept"`: the reverse. */
  role: "dial" | "accept";
  /**
   * Accepting side: decides on the hello's credentials (`undefined` when the
   * hello carries none). `true` or an object accepts (an object becomes the
   * connection's context); anything else refuses with 4401. `owner` is the
   * link's callbacks object (a hub shares one config between its
   * connections and tells them apart by it).
   */
  authenticate?: (credentials: unknown, owner: LinkCallbacks) => unknown;
  /** Dialing side: produces the credentials sent in the hello; without it the hello carries none. */
  credentials?: () => unknown;
  /**
   * Dialing side: the optional features to ask for; when given, the hello
   * has the options form `["hello", 2, credentials, { features }]`, else the
   * bare one. Accepting side: the features this end supports, granted to a
   * hello that asks for them.
   */
  features?: readonly string[];
  /** Called with the size of every frame written (data and control), e.g. to charge a pacer. */
  onTransmit?: (size: number) => void;
  /** Accepting side: fields announced in the welcome beside `features` (only to an options hello). */
  welcomeExtra?: Readonly<Record<string, unknown>>;
  /** Where frame and byte counts go. */
  counters?: LinkCounters;
  /** Bounds the whole handshake on either side. */
  handshakeTimeout: number;
  /**
   * Whether frames sent before the socket is open wait in an {@linkcode Outbox} of `outboxSize` (a hub's
   * connections; created on first use); the spoke holds its events in its pacer and passes none.
   */
  outbox?: boolean;
  /** Accepting side: limits on what the peer may send, and the scheduler shared with the other connections. */
  limits?: ResolvedPeerLimits & { scheduler?: FairScheduler };
}

/** Callbacks from a link to its owner. */
export interface LinkCallbacks {
  /** The handshake is done; runs before the outbox is flushed (subscriptions go first). */
  onHandshake?(link: Link, context: unknown): void;
  /** The link is open and its outbox flushed. */
  onOpen(link: Link): void;
  /** A data frame; `position` on the dialing side of a `"recover"` connection, when the frame carries one. */
  onEnvelope(envelope: EventEnvelope, frame: Frame, link: Link, position?: StreamPosition): void;
  onClose(info: WebSocketCloseInfo, link: Link): void;
  onError(error: PubSubError): void;
  /**
   * Accepting side: `["sub", topic, rid?]`, or with `"recover"` `["sub", topic, rid|null, since|null]` (the
   * request id is kept in `link.requests` for the answer).
   */
  onSubscribe?(topic: string, link: Link, since?: StreamPosition): void;
  /** Accepting side: `["unsub", topic]`. */
  onUnsubscribe?(topic: string, link: Link): void;
  /** Dialing side: `["suback", topic, rid?]`, or with `"recover"` `["suback", topic, rid|null, info]`. */
  onSubscribed?(topic: string, rid: number | undefined, link: Link, info?: SubscribedInfo): void;
  /** Dialing side, with `"recover"`: `["sent", topic, position]`, the position of an event this end sent. */
  onSentAt?(topic: string, position: StreamPosition, link: Link): void;
  /** Dialing side: `["subrefused", …]` or `["pubrefused", …]`; `rid` as a refused subscribe echoed it. */
  onRefused?(
    action: HubAction,
    topic: string,
    reason: RefusalReason,
    message: string,
    rid: number | undefined,
    link: Link,
  ): void;
}

/**
 * A socket adapter that hands its link the socket's events by calling it
 * (the Bun hub's, whose frames come through the server's handlers): no
 * listener closures per connection. Its `bufferedAmount` is cheap to read
 * and current right after a send, so the link reads it before each frame it
 * sends while frames are in flight: the send budget then keeps no record of
 * frames that have long left (an idle connection's last few control frames).
 */
export interface DirectSocket extends WebSocketLike {
  /** Binds the link to call (`undefined`: none any more). */
  bindLink(link: Link | undefined): void;
}

function isDirectSocket(socket: WebSocketLike): socket is DirectSocket {
  return typeof (socket as Partial<DirectSocket>).bindLink === "function";
}

/** `Link.#flags`, its low two bits: the state, one of the four below. */
const STATE = 3;
const CONNECTING_STATE = 0;
const HANDSHAKE_STATE = 1;
const OPEN_STATE = 2;
const CLOSED_STATE = 3;
/** The states by their number. */
const STATES: readonly WebSocketConnectionState[] = ["connecting", "handshake", "open", "closed"];
/** `Link.#flags`: the last frame was dropped under `backpressure: "drop"` (reported once per run of drops). */
const DROPPING = 4;
/** `Link.#flags`: a `ws` server socket (Node): text frames go as bytes encoded once per frame (ws_text.ts). */
const WS_TEXT = 8;
/** `Link.#flags`: the accepting side received its hello. */
const HANDSHAKE_STARTED = 16;
/** `Link.#flags`: a {@linkcode DirectSocket}. */
const DIRECT = 32;
/** `Link.#flags`: the socket itself has closed. */
const SOCKET_CLOSED = 64;
/** `Link.#flags`: the "close" feature is in force. */
const CLOSE_FEATURE = 128;
/** `Link.#flags`: the "recover" feature is in force. */
const RECOVER_FEATURE = 256;
/** The features in force, by `(flags & (CLOSE_FEATURE | RECOVER_FEATURE)) >> 7`: one set each, shared. */
const FEATURE_SETS: readonly ReadonlySet<string>[] = [
  NO_FEATURES,
  new Set(["close"]),
  new Set([RECOVER]),
  new Set(["close", RECOVER]),
];

/** The flags of the features in `features` that the link acts on. */
function featureFlags(features: Iterable<string>): number {
  let flags = 0;
  for (const feature of features) {
    if (feature === "close") flags |= CLOSE_FEATURE;
    else if (feature === RECOVER) flags |= RECOVER_FEATURE;
  }
  return flags;
}

/** The listeners a link adds to its socket: `open` while it connects, the others unless it calls the link directly. */
interface SocketListeners {
  open: (() => void) | undefined;
  message: ((event: WebSocketEventLike) => void) | undefined;
  close: ((event: WebSocketEventLike) => void) | undefined;
}

/** What only some links need, created on first use: one field of the link instead of six. */
class LinkExtras {
  /** Accepting side: the request ids of the peer's unanswered `sub`s, once one came with an id. */
  requests: SubRequests | undefined = undefined;
  /** Dialing side: the welcome's info. */
  welcome: WelcomeInfo | undefined = undefined;
  invalid: StrikeWindow | undefined = undefined;
  outbox: Outbox | undefined = undefined;
  socketClosed: Promise<void> | undefined = undefined;
  resolveSocketClosed: (() => void) | undefined = undefined;
  /** The send-budget ticket of the last pong (a link that is pinged). */
  pongTicket = 0;
  /** The features in force when they include some this link does not act on (a welcome may name others). */
  features: ReadonlySet<string> | undefined = undefined;
}

/** The request ids of a link that never received a `sub` with one: never noted into, only read. */
const NO_REQUESTS = new SubRequests();

/**
 * Drives one socket. Construct it last: if the socket is already open it starts at once.
 *
 * A hub holds one per connection, most of them idle: its fields are few (twelve: the state, features and flags in
 * one number, one timer field for the handshake and the close grace, which never overlap, the socket's listeners in
 * one object and none for a {@linkcode DirectSocket}, a fair-scheduler lane only while frames come), and what only
 * some connections need (the request ids of `sub`s, an outbox, a strike window, the `socketClosed` promise, the last
 * pong) is in a {@linkcode LinkExtras} created on first use.
 */
export class Link {
  // What every send reads comes first: the fields are laid out in this order, so a send to a connection not used
  // for a while (a hub with many) loads one cache line of the link instead of three.
  readonly socket: WebSocketLike;
  #budget: SendBudget;
  #config: LinkConfig;
  /** The state (STATE), DROPPING, WS_TEXT, HANDSHAKE_STARTED, DIRECT, SOCKET_CLOSED and the features. */
  #flags: number;
  #callbacks: LinkCallbacks;
  /** Where this link is on its config's heartbeat queue (-1: not on it); the answer's deadline while a ping waits. */
  #pingSlot = -1;
  #answerSlot = -1;
  /** The handshake's deadline until it is done, then a close announced to the peer (`#announceClose`). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #limiter: InboundRateLimiter | undefined;
  #lane: FairLane<Frame> | undefined;
  /** The socket's listeners, unless it calls the link directly (a {@linkcode DirectSocket}). */
  #listeners: SocketListeners | undefined;
  #extras: LinkExtras | undefined;

  constructor(socket: WebSocketLike, config: LinkConfig, callbacks: LinkCallbacks) {
    this.socket = socket;
    this.#flags = CONNECTING_STATE | (isWsServerSocket(socket) ? WS_TEXT : 0) | (isDirectSocket(socket) ? DIRECT : 0);
    this.#config = config;
    this.#callbacks = callbacks;
    this.#budget = new SendBudget({ limit: config.highWaterMark, frameOverhead: config.frameOverhead });
    const limits = config.limits;
    if (limits !== undefined) {
      // Until the handshake is done: a tiny send budget and tight inbound limits.
      this.#budget.limit = limits.handshakeHighWaterMark;
      this.#limiter = new InboundRateLimiter(limits.handshakeInbound);
    }
    try {
      socket.binaryType = "arraybuffer";
    } catch {
      // Some sockets fix their binary type; Blob frames are then reported as protocol errors.
    }
    if (this.#flags & DIRECT) {
      (socket as DirectSocket).bindLink(this); // it calls onSocketMessage and onSocketClose
      if (socket.readyState !== OPEN) {
        const open = () => this.#onSocketOpen();
        this.#listeners = { open, message: undefined, close: undefined };
        socket.addEventListener("open", open);
      }
    } else {
      // Only a socket still connecting needs an open listener (a hub's sockets are mostly open already).
      const listeners: SocketListeners = this.#listeners = {
        open: socket.readyState !== OPEN ? () => this.#onSocketOpen() : undefined,
        message: (event) => this.onSocketMessage(event),
        close: (event) => this.onSocketClose(event),
      };
      if (listeners.open !== undefined) socket.addEventListener("open", listeners.open);
      socket.addEventListener("message", listeners.message!);
      socket.addEventListener("close", listeners.close!);
      socket.addEventListener("error", ignoreSocketError);
    }
    if (socket.readyState === OPEN) this.#onSocketOpen();
    else if (socket.readyState === CLOSING || socket.readyState === CLOSED) {
      queueMicrotask(() => this.#finish({ code: 1006, reason: "The socket was already closed" }));
      this.#socketDone();
    }
  }

  /** The connection's state. */
  get state(): WebSocketConnectionState {
    return STATES[this.#flags & STATE];
  }

  /**
   * The optional features in force, once the handshake is done: those the
   * hub granted (on the dialing side, from the welcome) or granted to the
   * peer (on the accepting side). Empty for a bare hello or welcome.
   */
  get features(): ReadonlySet<string> {
    return this.#extras?.features ?? FEATURE_SETS[(this.#flags & (CLOSE_FEATURE | RECOVER_FEATURE)) >> 7];
  }

  /** Sets the features in force. */
  #setFeatures(features: readonly string[]): void {
    const flags = featureFlags(features);
    this.#flags |= flags;
    const shared = FEATURE_SETS[flags >> 7];
    if (features.some((feature) => !shared.has(feature))) {
      (this.#extras ??= new LinkExtras()).features = new Set(features);
    }
  }

  /** Dialing side: the welcome's info, once the handshake is done; `undefined` for a bare `["welcome", 2]`. */
  get welcome(): WelcomeInfo | undefined {
    return this.#extras?.welcome;
  }

  /** Settles once the socket itself has closed (after `close()`, the peer's close frame or a drop). */
  get socketClosed(): Promise<void> {
    const extras = this.#extras ??= new LinkExtras();
    return extras.socketClosed ??= this.#flags & SOCKET_CLOSED
      ? Promise.resolve()
      : new Promise((resolve) => (extras.resolveSocketClosed = resolve));
  }

  /** The socket itself has closed. */
  #socketDone(): void {
    this.#flags |= SOCKET_CLOSED;
    const extras = this.#extras;
    if (extras?.resolveSocketClosed !== undefined) {
      extras.resolveSocketClosed();
      extras.resolveSocketClosed = undefined;
    }
  }

  /** Accepting side: the request ids of the peer's unanswered `sub`s, for the answers. */
  get requests(): SubRequests {
    return this.#extras?.requests ?? NO_REQUESTS;
  }

  /**
   * Whether a frame of `size` fits the send budget now (open, and the
   * socket's queue leaves room): a sender that can wait (the spoke's pacer)
   * asks before {@linkcode Link.send}, so it never trips the budget.
   */
  fits(size: number): boolean {
    if ((this.#flags & STATE) !== OPEN_STATE) return false;
    const budget = this.#budget;
    if (budget.fits(size)) return true;
    budget.observe(this.socket.bufferedAmount);
    return budget.fits(size);
  }

  /** Sends a data frame now if open, queues it if not open yet, drops it once closed. */
  send(frame: Frame): void {
    if ((this.#flags & STATE) === OPEN_STATE) this.#transmit(frame);
    else if ((this.#flags & STATE) !== CLOSED_STATE) this.#queue(frame);
  }

  /**
   * Sends a routing control frame (a JSON array: sub, unsub, suback, a
   * refusal) if open; dropped while not open (a spoke re-announces on the next
   * connection). It counts against the send budget like data, but is never
   * dropped under `backpressure: "drop"`: losing one would leave a `ready()`
   * waiting or a route behind, so a peer too slow for it is closed with 4013.
   */
  control(message: readonly unknown[] | string): void {
    if ((this.#flags & STATE) === OPEN_STATE) {
      this.#transmit(typeof message === "string" ? message : JSON.stringify(message), true);
    }
  }

  /** Closes with `code`; the owner's `onClose` runs at once, without waiting for the peer. */
  close(code: number = CloseCode.Normal, reason = "", error?: PubSubError): void {
    if ((this.#flags & STATE) === CLOSED_STATE) return;
    if (!this.#announceClose(code, reason)) closeSocket(this.socket, code, reason);
    this.#finish(error === undefined ? { code, reason } : { code, reason, error });
  }

  /**
   * The "close" feature, accepting side: a close frame can be lost while the
   * peer is still writing (it then sees 1006), so before a final close (and
   * 4008, 4009) the hub sends `["close", code, reason]`, stops reading, and
   * gives the peer {@linkcode CLOSE_ANNOUNCE_GRACE_MS} to close the socket
   * itself, with the same code, before closing it.
   */
  #announceClose(code: number, reason: string): boolean {
    if (
      this.#config.role !== "accept" || (this.#flags & STATE) !== OPEN_STATE || !(this.#flags & CLOSE_FEATURE) ||
      !announced(code)
    ) {
      return false;
    }
    try {
      this.socket.send(JSON.stringify(["close", code, reason]));
    } catch {
      return false;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      closeSocket(this.socket, code, reason);
    }, CLOSE_ANNOUNCE_GRACE_MS);
    return true;
  }

  #queue(frame: Frame): void {
    if (this.#config.outbox !== true) return; // the owner holds its own frames (the spoke's pacer)
    const extras = this.#extras ??= new LinkExtras();
    const outbox = extras.outbox ??= new Outbox(this.#config.outboxSize);
    if (outbox.length >= outbox.size && this.#config.counters !== undefined) this.#config.counters.dropped++;
    const overflow = outbox.push(frame);
    if (overflow !== undefined) this.#callbacks.onError(overflow);
  }

  /** Sends any frame (data or control) within the send budget; returns its budget ticket, or 0 if not sent. */
  #transmit(frame: Frame, essential = false): number {
    const socket = this.socket;
    const budget = this.#budget;
    // UTF-16 units for text: what Deno's bufferedAmount counts for ASCII; the budget copes with the rest.
    const size = typeof frame === "string" ? frame.length : frame.byteLength;
    // The budget counts every frame sent until the socket's queue is seen to release it, so a frame that fits
    // before looking fits after: `bufferedAmount` (a call into the runtime on Deno) is read only near the limit. A
    // direct socket's is cheap: read while frames are in flight, so none is recorded after it has left.
    if (this.#flags & DIRECT && budget.frames > 0) budget.observe(socket.bufferedAmount);
    if (!budget.fits(size)) {
      const buffered = socket.bufferedAmount;
      budget.observe(buffered);
      if (!budget.fits(size)) {
        this.#overBudget(buffered, size, essential);
        return 0;
      }
    }
    this.#flags &= ~DROPPING;
    try {
      if (this.#flags & WS_TEXT && typeof frame === "string") sendWsText(socket, frame);
      else socket.send(frame);
    } catch {
      return 0; // The socket is closing; its close event follows.
    }
    const counters = this.#config.counters;
    if (counters !== undefined) {
      counters.framesOut++;
      counters.bytesOut += size;
    }
    this.#config.onTransmit?.(size);
    return budget.charge(size);
  }

  #overBudget(buffered: number, size: number, essential: boolean): void {
    const budget = this.#budget;
    const cost = budget.cost + size + budget.frameOverhead;
    if (this.#config.backpressure === "close" || (this.#flags & STATE) !== OPEN_STATE || essential) {
      const error = new WebSocketBackpressureError(buffered, budget.limit, "close", cost, budget.frames);
      this.#callbacks.onError(error);
      this.close(CloseCode.SlowConsumer, "Slow consumer", error);
      return;
    }
    if (this.#config.counters !== undefined) this.#config.counters.dropped++;
    if (!(this.#flags & DROPPING)) {
      this.#flags |= DROPPING;
      this.#callbacks.onError(new WebSocketBackpressureError(buffered, budget.limit, "drop", cost, budget.frames));
    }
  }

  #onSocketOpen(): void {
    if ((this.#flags & STATE) !== CONNECTING_STATE) return;
    const config = this.#config;
    // Every v2 connection has a handshake; the heartbeat starts only once it is done, so the handshake timeout
    // (4408, final) is what ends a peer that never completes it.
    this.#flags = (this.#flags & ~STATE) | HANDSHAKE_STATE;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const error = new WebSocketHandshakeError(CloseCode.HandshakeTimeout, "Handshake timeout");
      this.#callbacks.onError(error);
      this.close(CloseCode.HandshakeTimeout, "Handshake timeout", error);
    }, config.handshakeTimeout);
    if (config.role === "dial") this.#sendHello(config.credentials);
  }

  #sendHello(credentials: (() => unknown) | undefined): void {
    const features = this.#config.features;
    if (credentials === undefined) {
      this.#transmit(encodeHello(undefined, features));
      return;
    }
    Promise.resolve()
      .then(credentials)
      .then((value) => {
        if ((this.#flags & STATE) !== HANDSHAKE_STATE) return;
        this.#transmit(encodeHello(value ?? null, features));
      })
      .catch((cause) => {
        if ((this.#flags & STATE) === CLOSED_STATE) return;
        const error = new WebSocketHandshakeError(CloseCode.BadRequest, "Cannot send the credentials", { cause });
        this.#callbacks.onError(error);
        this.close(CloseCode.BadRequest, "Cannot send the credentials", error);
      });
  }

  #open(context: unknown): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const limits = this.#config.limits;
    if (limits !== undefined) {
      this.#budget.limit = this.#config.highWaterMark;
      this.#limiter = limits.inbound && new InboundRateLimiter(limits.inbound, this.#config.maxMessageBytes);
    }
    this.#flags = (this.#flags & ~STATE) | OPEN_STATE;
    this.#startHeartbeat();
    this.#callbacks.onHandshake?.(this, context);
    if ((this.#flags & STATE) !== OPEN_STATE) return;
    const queued = this.#extras?.outbox?.drain() ?? [];
    if (this.#extras !== undefined) this.#extras.outbox = undefined;
    for (let i = 0; i < queued.length && (this.#flags & STATE) === OPEN_STATE; i++) this.#transmit(queued[i]);
    if ((this.#flags & STATE) === OPEN_STATE) this.#callbacks.onOpen(this);
  }

  #startHeartbeat(): void {
    // One timer for every link of the config (a hub's connections): core/heartbeat_queue.ts.
    heartbeatQueue(this.#config)?.add(this);
  }

  /** @internal Heartbeat queue callback: a ping unless the last is unanswered (1 sent, 0 not, -1 closed). */
  heartbeatPing(): number {
    if ((this.#flags & STATE) !== OPEN_STATE) return -1;
    if (this.#answerSlot !== -1) return 0; // still waiting for the last one
    this.#transmit(PING);
    return (this.#flags & STATE) === OPEN_STATE ? 1 : -1;
  }

  /** @internal Heartbeat queue callback. */
  heartbeatSlots(ping: number, answer: number): void {
    this.#pingSlot = ping;
    if (answer !== -1) this.#answerSlot = answer;
  }

  /** @internal Heartbeat queue callback: the answer to the ping is due. */
  heartbeatDue(slot: number): void {
    if (slot !== this.#answerSlot || (this.#flags & STATE) === CLOSED_STATE) return;
    this.#answerSlot = -1;
    const error = new WebSocketHeartbeatError(this.#config.heartbeat!.timeout);
    this.#callbacks.onError(error);
    this.close(CloseCode.HeartbeatTimeout, "Heartbeat timeout", error);
  }

  /**
   * Inbound entry, the socket's `message` event: size limit, rate limits,
   * then the frame's turn (at once unless the connection used its slice).
   */
  onSocketMessage(event: WebSocketEventLike): void {
    if ((this.#flags & STATE) === CLOSED_STATE) return;
    let data = event.data;
    let size: number;
    const max = this.#config.maxMessageBytes;
    if (typeof data === "string") {
      size = data.length;
      if (size * 3 > max) {
        const bytes = utf8Length(data);
        if (bytes > max) {
          this.#tooLarge(bytes);
          return;
        }
      }
    } else {
      if (data instanceof ArrayBuffer) data = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else {
        this.#invalidFrame(
          new WebSocketProtocolError(`Cannot read a frame of ${describe(data)}: expected text or an ArrayBuffer`),
        );
        return;
      }
      size = (data as Uint8Array).byteLength;
      if (size > max) {
        this.#tooLarge(size);
        return;
      }
    }
    const counters = this.#config.counters;
    if (counters !== undefined) {
      counters.framesIn++;
      counters.bytesIn += size;
    }
    if (this.#limiter !== undefined) {
      const exceeded = this.#limiter.admit(size);
      if (exceeded !== undefined) {
        this.#rateLimited(exceeded);
        return;
      }
    }
    const scheduler = this.#config.limits?.scheduler;
    if (scheduler === undefined) this.handleItem(data as Frame);
    else {
      // A lane only while frames come (see laneReturned): an idle connection holds none.
      const lane = this.#lane ??= scheduler.lane<Frame>(this, this.#config.limits!.maxBacklog);
      if (!lane.push(data as Frame)) this.#rateLimited("backlog");
    }
  }

  /** @internal The scheduler took back the lane: it was idle for a whole turn (core/fair_scheduler.ts). */
  laneReturned(lane: FairLane<Frame>): void {
    if (this.#lane === lane) this.#lane = undefined;
  }

  /** @internal The frame's turn came (its lane's handler, core/fair_scheduler.ts): a control frame or an event. */
  handleItem(frame: Frame): void {
    if ((this.#flags & STATE) === CLOSED_STATE) return;
    if (typeof frame === "string" && frame.charCodeAt(0) === BRACKET) {
      this.#onControl(frame);
      return;
    }
    if ((this.#flags & STATE) !== OPEN_STATE) {
      if (this.#config.role === "accept") {
        // A v1 peer sends data at once: it gets the version refusal, not silent misrouting.
        this.#refuseVersion("Received a data frame before the handshake");
      } else {
        this.#callbacks.onError(new WebSocketProtocolError("Received a data frame before the handshake finished"));
      }
      return;
    }
    let envelope: EventEnvelope;
    let position: StreamPosition | undefined;
    try {
      if (this.#config.role === "dial" && (this.#flags & RECOVER_FEATURE) !== 0) {
        ({ envelope, position } = decodePositioned(frame, this.#config.codec));
      } else envelope = decodeEnvelope(frame, this.#config.codec);
    } catch (error) {
      this.#invalidFrame(
        error instanceof EnvelopeError ? error : new EnvelopeError("Cannot decode a frame", { cause: error }),
        typeof frame === "string" ? frame.length : frame.byteLength,
      );
      return;
    }
    this.#alive();
    this.#callbacks.onEnvelope(envelope, frame, this, position);
  }

  /** A valid frame came: the peer answered the heartbeat. Invalid frames and frames over a limit don't count. */
  #alive(): void {
    if (this.#answerSlot !== -1) {
      heartbeatQueue(this.#config)?.answered(this.#answerSlot);
      this.#answerSlot = -1;
    }
  }

  /** Answers a ping unless the last pong is still unsent: at most one pong is outstanding. */
  #pong(): void {
    const budget = this.#budget;
    budget.observe(this.socket.bufferedAmount);
    if (this.#extras !== undefined && !budget.settled(this.#extras.pongTicket)) return;
    const ticket = this.#transmit(PONG);
    if (ticket !== 0) (this.#extras ??= new LinkExtras()).pongTicket = ticket;
  }

  /**
   * Reports an invalid frame of `size` bytes; it counts one strike per started
   * `STRIKE_BYTES` (64 KiB), and `maxInvalidFrames` strikes within the window
   * close the connection with 4400.
   */
  #invalidFrame(error: PubSubError, size = 0): void {
    this.#callbacks.onError(error);
    this.strike(strikesFor(size));
  }

  /**
   * Counts an invalid input that was reported already (an invalid frame, a
   * publish refused for its payload) toward `maxInvalidFrames`, as `weight`
   * strikes; the last one within the window closes the connection with 4400.
   */
  strike(weight = 1): void {
    const limits = this.#config.limits;
    if (limits === undefined || (this.#flags & STATE) === CLOSED_STATE) return;
    const extras = this.#extras ??= new LinkExtras();
    extras.invalid ??= new StrikeWindow(limits.maxInvalidFrames, limits.invalidFrameWindow);
    if (!extras.invalid.strike(weight)) return;
    const closing = new WebSocketProtocolError(
      `Received ${limits.maxInvalidFrames} invalid frames (one per started 64 KiB) within ${limits.invalidFrameWindow} ms`,
    );
    this.#callbacks.onError(closing);
    this.close(CloseCode.BadRequest, "Too many invalid frames", closing);
  }

  #rateLimited(limit: InboundRateExceeded | "backlog"): void {
    const error = new WebSocketRateLimitError(limit, (this.#flags & STATE) !== OPEN_STATE);
    this.#callbacks.onError(error);
    this.close(CloseCode.RateLimited, "Rate limit", error);
  }

  #tooLarge(size: number): void {
    const error = new FrameTooLargeError(size, this.#config.maxMessageBytes);
    this.#callbacks.onError(error);
    this.close(CloseCode.MessageTooBig, "Message too big", error);
  }

  #onControl(text: string): void {
    let message: unknown;
    try {
      message = parseBoundedJson(text);
    } catch (cause) {
      this.#badControl(text, cause);
      return;
    }
    if (!Array.isArray(message)) {
      this.#badControl(text);
      return;
    }
    if ((this.#flags & STATE) !== OPEN_STATE) {
      if (this.#config.role === "accept") this.#onAcceptHandshake(message, text);
      else this.#onWelcome(message, text);
      return;
    }
    const tag = message[0];
    if (tag === "ping" && message.length === 1) {
      this.#alive();
      this.#pong();
    } else if (tag === "pong" && message.length === 1) this.#alive();
    else if (this.#config.role === "accept") this.#onAcceptControl(message, text);
    else this.#onDialControl(message, text);
  }

  /** The dialing side's handshake: the hub's welcome, bare or with info. */
  #onWelcome(message: unknown[], text: string): void {
    const welcome = parseWelcome(message);
    if (welcome.kind !== "welcome") {
      this.#badControl(text);
      return;
    }
    if (welcome.info !== undefined) {
      (this.#extras ??= new LinkExtras()).welcome = welcome.info;
      this.#setFeatures(welcome.info.features);
    }
    this.#open(undefined);
  }

  #onAcceptControl(message: unknown[], text: string): void {
    if (message[0] === "hello") {
      this.close(CloseCode.TooManyHandshakes, "Too many handshake messages");
      return;
    }
    const request = parseInterestRequest(message, (this.#flags & RECOVER_FEATURE) !== 0);
    if (request === undefined) {
      this.#badControl(text);
      return;
    }
    this.#alive();
    if (request.rid !== undefined) (this.#extras ??= new LinkExtras()).requests ??= new SubRequests();
    this.#extras?.requests?.note(request);
    if (request.tag === "sub") this.#callbacks.onSubscribe?.(request.topic, this, request.since);
    else this.#callbacks.onUnsubscribe?.(request.topic, this);
  }

  #onDialControl(message: unknown[], text: string): void {
    if (message[0] === "close" && this.#flags & CLOSE_FEATURE) {
      const [, code, reason] = message;
      // What a browser may close with: 1000 or 3000–4999.
      if (
        message.length === 3 && Number.isInteger(code) && (code === 1000 || (code as number) >= 3000) &&
        (code as number) <= 4999 && typeof reason === "string"
      ) {
        this.close(code as number, reason);
        return;
      }
    }
    const answer = parseHubAnswer(message, (this.#flags & RECOVER_FEATURE) !== 0);
    if (answer === undefined) {
      this.#badControl(text);
      return;
    }
    this.#alive();
    if (answer.tag === "suback") this.#callbacks.onSubscribed?.(answer.topic, answer.rid, this, answer.info);
    else if (answer.tag === "sent") this.#callbacks.onSentAt?.(answer.topic, answer.position, this);
    else {
      const { action, topic, reason, message: detail, rid } = answer;
      this.#callbacks.onRefused?.(action, topic, reason, detail, rid, this);
    }
  }

  #badControl(text: string, cause?: unknown): void {
    const error = new WebSocketProtocolError(`Unknown control frame ${describe(text)}`, { cause });
    if ((this.#flags & STATE) === HANDSHAKE_STATE) {
      this.#callbacks.onError(error);
      this.close(CloseCode.BadRequest, "Bad request", error);
    } else this.#invalidFrame(error, text.length);
  }

  #refuseVersion(what: string): void {
    const reason = `Protocol version ${PROTOCOL_VERSION} required`;
    const error = new WebSocketHandshakeError(CloseCode.UnsupportedProtocol, `${what}: ${reason}`);
    this.#callbacks.onError(error);
    this.close(CloseCode.UnsupportedProtocol, reason, error);
  }

  /** The accepting side's handshake: the first frame must be a hello (core/handshake.ts). */
  #onAcceptHandshake(message: unknown[], text: string): void {
    const tag = message[0];
    if (tag !== "hello") {
      if (tag === "auth") this.#refuseVersion("Received a version 1 handshake"); // ["auth", credentials]
      else this.#badControl(text);
      return;
    }
    if (this.#flags & HANDSHAKE_STARTED) {
      this.close(CloseCode.TooManyHandshakes, "Too many handshake messages");
      return;
    }
    const hello = parseHello(message);
    if (hello.kind === "malformed") {
      this.#badControl(text);
      return;
    }
    if (hello.kind === "version") {
      this.#refuseVersion(`Received a handshake for protocol version ${hello.version}`);
      return;
    }
    this.#flags |= HANDSHAKE_STARTED;
    const granted = hello.features && grantFeatures(hello.features, this.#config.features ?? []);
    const welcome = () => {
      this.#transmit(encodeWelcome(granted, this.#config.welcomeExtra));
      if (granted !== undefined && granted.length > 0) this.#setFeatures(granted);
    };
    const authenticate = this.#config.authenticate;
    if (authenticate === undefined) {
      welcome();
      this.#open(undefined);
      return;
    }
    Promise.resolve()
      .then(() => authenticate(hello.credentials, this.#callbacks))
      .then(
        (accepted) => {
          if ((this.#flags & STATE) !== HANDSHAKE_STATE) return;
          if (accepted !== true && (accepted === null || typeof accepted !== "object")) {
            this.close(CloseCode.Unauthorized, "Unauthorized");
            return;
          }
          welcome();
          this.#open(accepted === true ? undefined : accepted);
        },
        (cause) => {
          if ((this.#flags & STATE) === CLOSED_STATE) return;
          const error = new WebSocketHandshakeError(CloseCode.Unauthorized, "Unauthorized", { cause });
          this.#callbacks.onError(error);
          this.close(CloseCode.Unauthorized, "Unauthorized", error);
        },
      );
  }

  /** The socket's `close` event. */
  onSocketClose(event: WebSocketEventLike): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#detach();
    this.#socketDone();
    // Deno reports a failed dial as code 0; the standard code for a dropped connection is 1006.
    const code = typeof event.code === "number" && event.code > 0 ? event.code : 1006;
    this.#finish({ code, reason: event.reason ?? "" });
  }

  #detach(): void {
    const socket = this.socket;
    const listeners = this.#listeners;
    if (listeners?.open !== undefined) socket.removeEventListener("open", listeners.open);
    if (this.#flags & DIRECT) {
      (socket as DirectSocket).bindLink(undefined);
      return;
    }
    if (listeners?.message !== undefined) socket.removeEventListener("message", listeners.message);
    if (listeners?.close !== undefined) socket.removeEventListener("close", listeners.close);
    socket.removeEventListener("error", ignoreSocketError);
  }

  #finish(info: WebSocketCloseInfo): void {
    const state = this.#flags & STATE;
    if (state === CLOSED_STATE) return;
    this.#flags |= CLOSED_STATE;
    if (this.#pingSlot !== -1) heartbeatQueue(this.#config)?.remove(this.#pingSlot, this.#answerSlot);
    this.#pingSlot = this.#answerSlot = -1;
    // Before the handshake is done, the timer is its deadline; once open, it is a close's grace (kept).
    if (state !== OPEN_STATE && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#lane?.close();
    // Stop reading (a direct socket's messages end at onSocketMessage's state check).
    const message = this.#listeners?.message;
    if (message !== undefined) this.socket.removeEventListener("message", message);
    this.#callbacks.onClose(info, this);
  }
}

/** One heartbeat queue per link config: a hub's connections share it. */
const heartbeatQueues = new WeakMap<LinkConfig, HeartbeatQueue<Link>>();

/** The heartbeat queue of `config`'s links, or `undefined` without a heartbeat. */
function heartbeatQueue(config: LinkConfig): HeartbeatQueue<Link> | undefined {
  const heartbeat = config.heartbeat;
  if (heartbeat === undefined) return undefined;
  let queue = heartbeatQueues.get(config);
  if (queue === undefined) {
    heartbeatQueues.set(config, queue = new HeartbeatQueue(heartbeat.interval, heartbeat.timeout));
  }
  return queue;
}

/**
 * Encodes an event's envelope for the wire, checking that it is an envelope
 * for the event's topic and that it fits in `max` bytes.
 */
export function encodeEvent(event: EnvelopeEvent, codec: Codec, max: number): Frame {
  // A lite event's envelope was built for its topic (core/lite_event.ts): no second check.
  const frame = codec.encode(isLiteEvent(event) ? event.detail : outgoingEnvelope(event.detail, event.type));
  if (typeof frame === "string" && frame.charCodeAt(0) === BRACKET) {
    throw new TypeError(`The codec produced text starting with "[", which is reserved for control frames`);
  }
  checkFrameSize(frame, max);
  return frame;
}

/** The local event for a received envelope. */
export function toEvent(envelope: EventEnvelope): EnvelopeEvent {
  return new CustomEvent(topicFor(envelope.type, envelope.id), { detail: envelope }) as EnvelopeEvent;
}

/** The error listener of every link: a close event always follows; it carries the code. */
function ignoreSocketError(): void {}

/** Closes a socket with `code` and `reason` (without the reason if the socket refuses it, say over 123 bytes). */
function closeSocket(socket: WebSocketLike, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    try {
      socket.close(code);
    } catch {
      // Already closing.
    }
  }
}
