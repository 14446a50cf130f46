/**
 * `HubRouter`: the routing table a hub keeps over its connections, shared by
 * every hub transport (WebSocket, iroh). It knows nothing of sockets or
 * frames beyond an opaque, already encoded frame type `F`.
 *
 * - topic → connections and connection → topics, with the hub's own local
 *   listeners counted per topic;
 * - limits (subscriptions per connection, topic length), and the `authorize`
 *   hook for subscribes and publishes, run by its `AuthorizeGate`
 *   (core/hub_authorize.ts);
 * - the upstream: every event, whoever published it, goes out through the
 *   upstream target and comes back through the one upstream listener the hub
 *   holds per topic while anyone (a connection or a local listener) wants it.
 *   Without an upstream the router uses a private in-process one, so there is
 *   one delivery path (an event goes straight to that listener's delivery,
 *   without a dispatch per event);
 * - the sender of a relayed event is never sent its own event back, including
 *   when it returns asynchronously from a shared upstream such as Redis (the
 *   relay records are in core/hub_relay.ts).
 *
 * @module
 */

import { CompactMap, CompactSet } from "./compact_collections.ts";
import type { DecisionCache } from "./decision_cache.ts";
import { PublishRefusedError, PubSubError, type RefusalReason, SubscriptionRefusedError } from "./errors.ts";
import { frameSize } from "./frame_size.ts";
import { type Authorize, AuthorizeGate, type AuthorizeLimits, type HubAction } from "./hub_authorize.ts";
import {
  type EncodeAt,
  HubHistory,
  type HubHistoryOptions,
  isStreamHistorySource,
  type SubscribedInfo,
} from "./hub_history.ts";
import { type Echo, forgetEchoes, type Relay, rememberEcho, takeEcho } from "./hub_relay.ts";
import { liteEvent, realEvent } from "./lite_event.ts";
import type { OrderedResults } from "./ordered_results.ts";
import { type HubSchemaOptions, PayloadGate, PayloadValidationError } from "./payload_validation.ts";
import { positiveInteger } from "./positive.ts";
import type { StreamPosition } from "./topic_history.ts";
import { parseTopic, topicFor } from "./topic.ts";
import type { EnvelopeEvent, EventEnvelope, SubscriptionReadiness, TypedEventTarget } from "./types.ts";

/**
 * One connection as the router sees it: where to send data frames and
 * answers. The transport implements it.
 *
 * @typeParam F The encoded frame type.
 *
 * @example
 * ```ts ignore
 * const peer: HubPeer<string> = {
 *   sendData: (frame) => socket.send(frame),
 *   subscribed: (topic) => socket.send(JSON.stringify(["suback", topic])),
 *   refused: (action, topic, reason, message) => socket.send(JSON.stringify(["refused", action, topic, reason, message])),
 * };
 * ```
 */
export interface HubPeer<F> {
  /**
   * The connection asked for stream positions (the `"recover"` feature): with
   * the hub's `history`, it is sent positioned frames and {@linkcode SubscribedInfo}.
   */
  readonly recover?: boolean;
  /** Sends one data frame. */
  sendData(frame: F): void;
  /**
   * The subscription to `topic` is live: frames for it follow. `info` is given
   * to a `recover` connection of a hub with history.
   */
  subscribed(topic: string, info?: SubscribedInfo): void;
  /**
   * To a `recover` connection subscribed to `topic`: the position of an event
   * it sent itself there (it is not sent back), so its position stays current.
   */
  sentAt?(topic: string, position: StreamPosition): void;
  /** A subscribe or publish was refused. */
  refused(action: HubAction, topic: string, reason: RefusalReason, message: string): void;
  /** The subscription to `topic` ended (unsubscribe, revocation or detach): no frame for it follows. */
  unsubscribed?(topic: string): void;
}

/**
 * Options for {@linkcode HubRouter}.
 *
 * @typeParam F The encoded frame type.
 * @typeParam TContext The connection context type.
 *
 * @example
 * ```ts
 * import type { HubRouterOptions } from "@alkdev/pubsub";
 *
 * const options: HubRouterOptions<string> = {
 *   encode: (envelope) => JSON.stringify(envelope),
 *   deliverLocal: () => {},
 *   onError: (error) => console.warn(error.message),
 * };
 * ```
 */
export interface HubRouterOptions<F, TContext = unknown> extends AuthorizeLimits, HubSchemaOptions {
  /** Encodes an envelope as a data frame (for events that arrive from the upstream). */
  encode(envelope: EventEnvelope): F;
  /** Delivers an event to the hub's own local listeners. */
  deliverLocal(event: EnvelopeEvent): void;
  /**
   * A shared target the hub publishes to and listens on, for example a Redis
   * target, so that several hub processes act as one hub.
   *
   * @default {a private in-process target}
   */
  upstream?: TypedEventTarget<EnvelopeEvent>;
  /**
   * Decides each subscribe and publish of a connection.
   *
   * @default {everything is allowed}
   */
  authorize?: Authorize<TContext>;
  /**
   * The most topics one connection may hold (subscribed or waiting for
   * `authorize`). One more is refused with `"too-many-subscriptions"`.
   *
   * @default {4096}
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * The longest topic accepted, in UTF-16 code units. A longer one is refused
   * with `"topic-too-long"`.
   *
   * @default {1024}
   */
  maxTopicLength?: number;
  /**
   * Keep a bounded history per topic, number publications, and let
   * connections that ask (`recover`) resume from a position. Off by default:
   * it holds payloads in memory and keeps each topic's upstream listener for
   * `ttl` after its last subscriber leaves; `{}` turns it on with the
   * defaults of {@linkcode HubHistoryOptions}.
   *
   * @default {undefined: no history}
   */
  history?: HubHistoryOptions;
  /** With `history`: encodes a positioned frame. Required with `history`. */
  encodeAt?: EncodeAt<F>;
  /** Where refusals caused by a throwing `authorize`, and upstream failures, are reported. */
  onError(error: PubSubError): void;
  /**
   * Sends one frame to every connection subscribed to `topic` except
   * `except` at once, through a runtime's own pub/sub (each connection
   * subscribed there in its `subscribed` and left in `unsubscribed`),
   * instead of one `sendData` per connection.
   *
   * @default {one `sendData` per connection}
   */
  fanOut?(topic: string, frame: F, except: HubPeer<F> | undefined, recipients: number): void;
}

/**
 * The router's counters, for `stats()`.
 *
 * @example
 * ```ts
 * import type { HubRouterStats } from "@alkdev/pubsub";
 *
 * const stats: HubRouterStats = {
 *   topics: 0, subscriptions: 0, refusedSubscribes: 0, refusedPublishes: 0, deliveries: 0, authorizing: 0,
 * };
 * ```
 */
export interface HubRouterStats {
  /** Topics wanted by a connection or a local listener (each holds one upstream listener). */
  topics: number;
  /** Live (connection, topic) subscriptions. */
  subscriptions: number;
  /** Subscribes refused since the hub started. */
  refusedSubscribes: number;
  /** Publishes refused since the hub started. */
  refusedPublishes: number;
  /** Data frames handed to connections since the hub started. */
  deliveries: number;
  /** Asynchronous `authorize` calls running now, over every connection. */
  authorizing: number;
}

const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 4096;
const DEFAULT_MAX_TOPIC_LENGTH = 1024;
const DEFAULT_MAX_PENDING_VALIDATIONS = 1024;

/** What only some routes need (a history's joins, an asynchronous upstream's echoes). */
interface RouteExtras<F> {
  joining: number;
  echoes: Echo<HubPeer<F>, F>[] | undefined;
}

/**
 * A topic's route: its subscribed peers (the route itself, one object per topic) and local listeners. Four fields: a
 * hub has one per personal topic.
 */
class Route<F> extends CompactSet<HubPeer<F>> {
  /** Most routes (a personal topic) have one subscriber: no `Set` for them. */
  get peers(): CompactSet<HubPeer<F>> {
    return this;
  }
  local = 0;
  /** `joining` and `echoes` while either is set. */
  #extras: RouteExtras<F> | undefined;

  /** `recover` connections waiting for the upstream before they join: the route stays meanwhile. */
  get joining(): number {
    return this.#extras?.joining ?? 0;
  }

  set joining(joining: number) {
    this.#set(joining, this.echoes);
  }

  /** Events relayed from a subscribed sender, waiting to come back from an asynchronous upstream. */
  get echoes(): Echo<HubPeer<F>, F>[] | undefined {
    return this.#extras?.echoes;
  }

  set echoes(echoes: Echo<HubPeer<F>, F>[] | undefined) {
    this.#set(this.joining, echoes);
  }

  #set(joining: number, echoes: Echo<HubPeer<F>, F>[] | undefined): void {
    if (joining === 0 && echoes === undefined) this.#extras = undefined;
    else if (this.#extras === undefined) this.#extras = { joining, echoes };
    else {
      this.#extras.joining = joining;
      this.#extras.echoes = echoes;
    }
  }
}

/**
 * A connection's topic. Most are a number, no object per topic: the subscribe's generation (bumped on each
 * subscribe, so a late `authorize` answer for an older request is ignored), negated once the subscription is live.
 * A `recover` connection's subscribe that resumes from a position is an object with that position.
 */
type Entry = number | PositionedEntry;

interface PositionedEntry {
  generation: number;
  active: boolean;
  /** The position a `recover` connection asked to resume from. */
  since: StreamPosition;
}

/** Whether the subscription is live. */
function isActive(entry: Entry): boolean {
  return typeof entry === "number" ? entry < 0 : entry.active;
}

/** The subscribe's generation. */
function generationOf(entry: Entry | undefined): number | undefined {
  return typeof entry === "number" ? Math.abs(entry) : entry?.generation;
}

/** A connection's state: its topics (the state itself, one object per connection) and its authorization. */
class PeerState<TContext> extends CompactMap<string, Entry> {
  context: TContext | undefined;
  generation = 0;
  /** Asynchronous `authorize` calls running (until they settle or time out, even after an unsub or a detach). */
  inFlight = 0;
  /** Publishes waiting for an answer, theirs or one ahead of them, in arrival order; created on first use. */
  publishes: OrderedResults | undefined;
  /** Remembered publish decisions per topic; `undefined` with `publishAuthorization.cache: false` or before the first. */
  decisions: DecisionCache<string> | undefined;

  constructor(context: TContext | undefined) {
    super();
    this.context = context;
  }

  /** A flat array for the few topics most connections hold. */
  get topics(): CompactMap<string, Entry> {
    return this;
  }
}

/**
 * The routing table and delivery rules of a hub. A transport creates one,
 * `attach`es each connection once its handshake is done, passes it the
 * connection's `subscribe`/`unsubscribe` requests and data, calls
 * `addLocal`/`removeLocal` as its own listeners come and go, and `detach`es
 * the connection when it closes.
 *
 * Delivery: every event goes out through the upstream (`publish` and
 * `publishFrom`) and is delivered when it comes back through the upstream
 * listener (without an `upstream`, at once): to the hub's local listeners if
 * any, and to every connection subscribed to its topic except the one that
 * sent it. Each interested party receives it once.
 *
 * @typeParam F The encoded frame type.
 * @typeParam TContext The connection context type.
 *
 * @example Two peers, one topic
 * ```ts
 * import { HubRouter, type HubPeer, topicFor } from "@alkdev/pubsub";
 *
 * const router = new HubRouter<string>({
 *   encode: (envelope) => JSON.stringify(envelope),
 *   deliverLocal: () => {},
 *   onError: console.error,
 * });
 * const peer = (name: string): HubPeer<string> => ({
 *   sendData: (frame) => console.log(name, "got", frame),
 *   subscribed: (topic) => console.log(name, "subscribed to", topic),
 *   refused: () => {},
 * });
 * const a = peer("a"), b = peer("b");
 * router.attach(a);
 * router.attach(b);
 * router.subscribe(b, topicFor("ping", "1")); // b subscribed to ping:1
 * const envelope = { type: "ping", id: "1", payload: 1 };
 * router.publishFrom(a, envelope, JSON.stringify(envelope)); // b got {"type":"ping","id":"1","payload":1}
 * ```
 */
export class HubRouter<F, TContext = unknown> {
  #options: HubRouterOptions<F, TContext>;
  /** `undefined` without an upstream: events go straight to the routes (no listener per topic). */
  #upstream: TypedEventTarget<EnvelopeEvent> | undefined;
  #maxSubscriptions: number;
  #maxTopicLength: number;
  #payloads: PayloadGate<PeerState<TContext>> | undefined;
  #admitted: EventEnvelope | undefined;
  #gate: AuthorizeGate<HubPeer<F>, F, TContext>;
  #routes = new Map<string, Route<F>>();
  /**
   * Every connection counted, by `add` or `attach`, with its state once attached (`null` before its handshake): the
   * hub's one collection of its connections, one entry each.
   */
  #peers = new Map<HubPeer<F>, PeerState<TContext> | null>();
  #relay: Relay<HubPeer<F>, F> | undefined;
  #lastType: string | undefined;
  #lastId: string | undefined;
  #lastTopic = "";
  #history: HubHistory<F> | undefined;
  #subscriptions = 0;
  #refusedSubscribes = 0;
  #refusedPublishes = 0;
  #deliveries = 0;

  /**
   * Creates an empty router.
   *
   * @param options Encoding, local delivery, upstream, authorization and limits.
   */
  constructor(options: HubRouterOptions<F, TContext>) {
    this.#options = options;
    this.#upstream = options.upstream;
    this.#maxSubscriptions = positiveInteger(
      "maxSubscriptionsPerConnection",
      options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    );
    this.#maxTopicLength = positiveInteger("maxTopicLength", options.maxTopicLength ?? DEFAULT_MAX_TOPIC_LENGTH);
    this.#gate = new AuthorizeGate(options.authorize, options, {
      live: (peer, state) => this.#peers.get(peer) === state,
      relay: (peer, topic, envelope, frame) => this.#relayFrom(peer, topic, envelope, frame),
      refuse: (peer, topic, reason, message, cause) => this.#refusePublish(peer, topic, reason, message, cause),
      onError: (error) => this.#options.onError(error as PubSubError),
    });
    if (options.schemas !== undefined) {
      this.#payloads = new PayloadGate(
        options.schemas,
        options.maxPendingValidations ?? DEFAULT_MAX_PENDING_VALIDATIONS,
      );
    }
    if (options.history !== undefined) {
      if (options.encodeAt === undefined) throw new TypeError("The history option needs encodeAt");
      this.#history = new HubHistory<F>(
        options.history,
        options.encodeAt,
        (topic) => {
          const route = this.#routes.get(topic);
          if (route !== undefined) this.#release(topic, route);
        },
        (topic) => {
          const route = this.#routes.get(topic);
          return route !== undefined && (route.peers.size > 0 || route.local > 0);
        },
        isStreamHistorySource(options.upstream) ? options.upstream : undefined,
        (peer, topic, cause) => {
          const state = this.#state(peer);
          if (state === undefined || !state.topics.delete(topic)) return;
          this.#removePeer(topic, peer);
          const message = `The upstream could not read the history of ${JSON.stringify(topic)}`;
          this.#options.onError(new SubscriptionRefusedError(topic, "unavailable", message, { cause }));
          this.#refuseSubscribe(peer, topic, "unavailable", message);
        },
      );
    }
  }

  /** Whether the hub keeps a history (and grants `recover`). */
  get history(): boolean {
    return this.#history !== undefined;
  }

  /**
   * Counts a connection before its handshake is done: it is one of
   * {@linkcode HubRouter.peers} until {@linkcode HubRouter.detach}, and
   * routed once attached. Idempotent.
   *
   * @param peer The connection.
   */
  add(peer: HubPeer<F>): void {
    if (!this.#peers.has(peer)) this.#peers.set(peer, null);
  }

  /**
   * Adds a connection whose handshake is done (counting it, if `add` did not).
   *
   * @param peer The connection.
   * @param context What `authenticate` returned for it.
   */
  attach(peer: HubPeer<F>, context?: TContext): void {
    if (this.#peers.get(peer)) return;
    // The publish queue and the decision cache are created on the connection's first publish that asks authorize
    // (most never do).
    this.#peers.set(peer, new PeerState(context));
  }

  /** The connections counted (added or attached, not yet detached). */
  get peers(): IterableIterator<HubPeer<F>> {
    return this.#peers.keys();
  }

  /** How many connections are counted. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * Removes a connection and all its subscriptions. Idempotent.
   *
   * @param peer The connection.
   * @returns Whether it was counted.
   */
  detach(peer: HubPeer<F>): boolean {
    const state = this.#peers.get(peer);
    if (state === undefined) return false;
    this.#peers.delete(peer);
    if (state !== null) this.#forget(peer, state);
    return true;
  }

  /** Drops an attached connection's subscriptions and pending work. */
  #forget(peer: HubPeer<F>, state: PeerState<TContext>): void {
    this.#payloads?.forget(state);
    for (const [topic, entry] of state.topics) if (isActive(entry)) this.#removePeer(topic, peer);
    state.topics.clear();
    this.#history?.leave(peer);
    state.publishes?.clear();
  }

  /**
   * Handles a connection's request to receive `topic`. Answers through the
   * peer's `subscribed` or `refused`, at once or after `authorize` (and the
   * upstream's `ready`) settle. A repeated request for a live topic is
   * answered again.
   *
   * @param peer The connection.
   * @param topic The topic.
   * @param since For a `recover` connection of a hub with history: the position to resume from.
   */
  subscribe(peer: HubPeer<F>, topic: string, since?: StreamPosition): void {
    const state = this.#state(peer);
    if (state === undefined) return;
    const existing = state.topics.get(topic);
    if (existing !== undefined) {
      if (isActive(existing)) this.#answer(peer, topic, false);
      return; // an answer is on its way
    }
    if (topic.length > this.#maxTopicLength) {
      this.#refuseSubscribe(peer, topic, "topic-too-long", `Topic is longer than ${this.#maxTopicLength} characters`);
      return;
    }
    const parsed = parseTopic(topic);
    if (parsed === undefined) {
      this.#refuseSubscribe(peer, topic, "invalid-topic", `Not a topic: ${JSON.stringify(topic.slice(0, 80))}`);
      return;
    }
    if (state.topics.size >= this.#maxSubscriptions) {
      this.#refuseSubscribe(
        peer,
        topic,
        "too-many-subscriptions",
        `The connection already holds ${this.#maxSubscriptions} subscriptions`,
      );
      return;
    }
    // An object only with `since`.
    const generation = ++state.generation;
    state.topics.set(topic, since === undefined ? generation : { generation, active: false, since });
    const current = () => this.#peers.get(peer) === state && generationOf(state.topics.get(topic)) === generation;
    this.#gate.decide(
      "subscribe",
      parsed.type,
      parsed.id,
      topic,
      state,
      (allowed, cause, message) => {
        if (!current()) return;
        if (!allowed) {
          state.topics.delete(topic);
          const reason = message === undefined ? "forbidden" : "unavailable";
          this.#refuseSubscribe(peer, topic, reason, message, cause);
          return;
        }
        this.#activate(peer, state, topic, current);
      },
    );
  }

  /**
   * Handles a connection's request to stop receiving `topic` (live or still
   * being decided). Unknown topics are ignored.
   *
   * @param peer The connection.
   * @param topic The topic.
   */
  unsubscribe(peer: HubPeer<F>, topic: string): void {
    const state = this.#state(peer);
    const entry = state?.topics.get(topic);
    if (state === undefined || entry === undefined) return;
    state.topics.delete(topic);
    if (isActive(entry)) this.#removePeer(topic, peer);
    this.#history?.leave(peer, topic);
  }

  /**
   * Relays an event a connection sent: after `authorize`, out through the
   * upstream, and from there to local listeners and subscribed connections
   * other than the sender. Order is kept per connection, also while an
   * asynchronous `authorize` is pending.
   *
   * @param peer The sending connection.
   * @param envelope The decoded, valid envelope.
   * @param frame The frame it arrived in, passed on as is to other connections.
   */
  publishFrom(peer: HubPeer<F>, envelope: EventEnvelope, frame: F): void {
    const state = this.#state(peer);
    if (state === undefined) return;
    const topic = this.#topicOf(envelope);
    // Validated first, in arrival order; what passes comes back here once, as `#admitted`.
    if (this.#payloads !== undefined && this.#admitted !== envelope) {
      this.#payloads.check(state, envelope, topic, (checked) => {
        if (this.#peers.get(peer) !== state) return;
        if (checked instanceof PubSubError) {
          this.#options.onError(checked);
          this.#refusePublish(
            peer,
            topic,
            checked instanceof PayloadValidationError ? "invalid-payload" : "unavailable",
            checked.message,
          );
          return;
        }
        this.#admitted = envelope;
        try {
          this.publishFrom(peer, envelope, frame);
        } finally {
          this.#admitted = undefined;
        }
      });
      return;
    }
    const gate = this.#gate;
    if (gate.authorize === undefined) this.#relayFrom(peer, topic, envelope, frame);
    // In arrival order: the gate relays or refuses it through the router's #relayFrom and #refusePublish.
    else gate.publish(peer, state, topic, envelope, frame);
  }

  /**
   * Forgets remembered publish decisions (see `publishAuthorization`), so
   * the next publish on each topic asks `authorize` again: call it when
   * permissions change.
   *
   * @param match Which (context, topic) decisions to forget. @default {all of them}
   */
  clearPublishDecisions(match?: (context: TContext | undefined, topic: string) => boolean): void {
    for (const state of this.#peers.values()) {
      if (state === null) continue;
      const context = state.context;
      state.decisions?.clear(match && ((topic) => match(context, topic)));
    }
  }

  /**
   * Publishes the hub's own event: out through the upstream, and from there
   * to local listeners and subscribed connections.
   *
   * @param event The event (its `type` is the topic, its `detail` a valid envelope).
   * @param frame Its encoding, if the caller has it already.
   * @throws Whatever the upstream's `dispatchEvent` throws (a closed Redis target, for example).
   */
  publish(event: EnvelopeEvent, frame?: F): void {
    this.#dispatchUpstream(event, frame, undefined);
  }

  /**
   * Counts one more local listener for `topic` (a topic wanted locally holds
   * the upstream listener too).
   *
   * @param topic The topic.
   */
  addLocal(topic: string): void {
    const route = this.#route(topic);
    route.local++;
  }

  /**
   * Counts one local listener less for `topic`.
   *
   * @param topic The topic.
   */
  removeLocal(topic: string): void {
    const route = this.#routes.get(topic);
    if (route === undefined || route.local === 0) return;
    route.local--;
    this.#release(topic, route);
  }

  /**
   * Settles once the upstream listens on `topic` (at once without an
   * upstream, or if the upstream cannot tell).
   *
   * @param topic The topic.
   */
  ready(topic: string): Promise<void> {
    const upstream = this.#options.upstream as Partial<SubscriptionReadiness> | undefined;
    if (upstream === undefined || typeof upstream.ready !== "function" || !this.#routes.has(topic)) {
      return Promise.resolve();
    }
    return upstream.ready(topic);
  }

  /** The topics a connection holds, live or being decided. */
  topicsOf(peer: HubPeer<F>): number {
    return this.#peers.get(peer)?.topics.size ?? 0;
  }

  /** The router's counters. */
  stats(): HubRouterStats {
    return {
      topics: this.#routes.size,
      subscriptions: this.#subscriptions,
      refusedSubscribes: this.#refusedSubscribes,
      refusedPublishes: this.#refusedPublishes,
      deliveries: this.#deliveries,
      authorizing: this.#gate.authorizing,
    };
  }

  /**
   * Drops every connection's subscriptions and every local count, every upstream listener and every `authorize`
   * call's timer. The connections stay counted, unattached, until detached.
   */
  clear(): void {
    this.#gate.clear();
    for (const [peer, state] of [...this.#peers]) {
      if (state === null) continue;
      this.#peers.set(peer, null);
      this.#forget(peer, state);
    }
    this.#history?.close();
    for (const [topic, route] of this.#routes) {
      route.local = 0;
      this.#release(topic, route);
    }
  }

  /** An attached connection's state. */
  #state(peer: HubPeer<F>): PeerState<TContext> | undefined {
    return this.#peers.get(peer) ?? undefined;
  }

  /** The subscribe of `topic` (current) was allowed. */
  #activate(peer: HubPeer<F>, state: PeerState<TContext>, topic: string, current: () => boolean): void {
    const entry = state.topics.get(topic)!;
    let since: StreamPosition | undefined;
    if (typeof entry === "number") state.topics.set(topic, -entry);
    else {
      entry.active = true;
      since = entry.since;
    }
    const route = this.#route(topic);
    // A connection that resumes from a position joins at its answer, so nothing reaches it before its replay.
    const joinLater = this.#history !== undefined && peer.recover === true;
    if (!joinLater) this.#addPeer(route, peer);
    const upstream = this.#options.upstream as Partial<SubscriptionReadiness> | undefined;
    if (upstream === undefined || typeof upstream.ready !== "function") {
      this.#answer(peer, topic, joinLater, since);
      return;
    }
    // With a shared upstream, the answer waits until the upstream really listens (a Redis SUBSCRIBE, say).
    if (joinLater) route.joining++;
    const joined = () => {
      const route = this.#routes.get(topic);
      if (!joinLater || route === undefined) return;
      route.joining--;
      this.#release(topic, route);
    };
    upstream.ready(topic).then(
      () => {
        if (current()) this.#answer(peer, topic, joinLater, since);
        joined();
      },
      (cause) => {
        joined();
        if (!current()) return;
        state.topics.delete(topic);
        this.#removePeer(topic, peer);
        const message = `The upstream could not subscribe to ${JSON.stringify(topic)}`;
        this.#options.onError(new SubscriptionRefusedError(topic, "unavailable", message, { cause }));
        this.#refuseSubscribe(peer, topic, "unavailable", message);
      },
    );
  }

  #addPeer(route: Route<F>, peer: HubPeer<F>): void {
    if (route.peers.has(peer)) return;
    route.peers.add(peer);
    this.#subscriptions++;
  }

  /**
   * Answers a subscribe; a `recover` connection joins the route here (`join`), then gets its replay from `since`
   * (`joining`).
   */
  #answer(peer: HubPeer<F>, topic: string, join: boolean, since?: StreamPosition): void {
    const history = this.#history;
    if (history === undefined || peer.recover !== true) {
      peer.subscribed(topic);
      return;
    }
    if (!join) {
      history.again(peer, topic);
      return;
    }
    const route = this.#routes.get(topic);
    if (route === undefined) return;
    this.#addPeer(route, peer);
    history.join(peer, topic, since);
  }

  #route(topic: string): Route<F> {
    let route = this.#routes.get(topic);
    if (route === undefined) {
      route = new Route<F>();
      this.#routes.set(topic, route);
      this.#upstream?.addEventListener(topic, this.#onUpstream);
    }
    return route;
  }

  #removePeer(topic: string, peer: HubPeer<F>): void {
    const route = this.#routes.get(topic);
    if (route === undefined) return;
    if (route.peers.delete(peer)) {
      this.#subscriptions--;
      peer.unsubscribed?.(topic);
      forgetEchoes(route, peer);
    }
    this.#release(topic, route);
  }

  #release(topic: string, route: Route<F>): void {
    if (route.peers.size > 0 || route.local > 0 || route.joining > 0) return;
    // A topic with history keeps listening until its stream is dropped, so it records what a dropped spoke misses.
    if (this.#history?.store.has(topic)) return;
    this.#routes.delete(topic);
    this.#upstream?.removeEventListener(topic, this.#onUpstream);
  }

  #refuseSubscribe(peer: HubPeer<F>, topic: string, reason: RefusalReason, message?: string, cause?: unknown): void {
    this.#refusedSubscribes++;
    const error = new SubscriptionRefusedError(topic, reason, message, cause === undefined ? undefined : { cause });
    if (cause !== undefined) this.#options.onError(error);
    peer.refused("subscribe", topic, reason, error.message);
  }

  #refusePublish(peer: HubPeer<F>, topic: string, reason: RefusalReason, message?: string, cause?: unknown): void {
    this.#refusedPublishes++;
    const error = new PublishRefusedError(topic, reason, message, cause === undefined ? undefined : { cause });
    if (cause !== undefined) this.#options.onError(error);
    peer.refused("publish", topic, reason, error.message);
  }

  /**
   * The topic of a decoded envelope; the last one is kept, so a stream of events on one topic reuses one string (its
   * hash computed once for the route lookups).
   */
  #topicOf(envelope: EventEnvelope): string {
    const { type, id } = envelope;
    if (type === this.#lastType && id === this.#lastId) return this.#lastTopic;
    const topic = validTopic(type, id);
    this.#lastType = type;
    this.#lastId = id;
    this.#lastTopic = topic;
    return topic;
  }

  #relayFrom(peer: HubPeer<F>, topic: string, envelope: EventEnvelope, frame: F): void {
    const event = liteEvent(topic, envelope);
    try {
      this.#dispatchUpstream(event, frame, peer);
    } catch (cause) {
      const error = new PublishRefusedError(topic, "unavailable", `The upstream refused ${JSON.stringify(topic)}`, {
        cause,
      });
      this.#options.onError(error);
    }
  }

  #dispatchUpstream(event: EnvelopeEvent, frame: F | undefined, from: HubPeer<F> | undefined): void {
    const upstream = this.#upstream;
    if (upstream === undefined) {
      // No upstream: the event goes straight to its route (no relay record), a throw reported as an in-process
      // target would report its listener's.
      const route = this.#routes.get(event.type);
      if (route === undefined) return;
      try {
        this.#deliver(route, event, frame, from);
      } catch (error) {
        console.error(`A listener for ${JSON.stringify(event.type)} threw:`, error);
      }
      return;
    }
    // A lite event (core/lite_event.ts) stays within the router; an upstream gets a real one.
    event = realEvent(event);
    const relay: Relay<HubPeer<F>, F> = { event, frame, from, seen: false };
    const outer = this.#relay;
    this.#relay = relay;
    try {
      upstream.dispatchEvent(event);
    } finally {
      this.#relay = outer;
    }
    if (relay.seen || from === undefined || frame === undefined) return;
    // An asynchronous upstream (Redis) sends the event back later: remember it, so the sender is skipped then.
    const route = this.#routes.get(event.type);
    if (route === undefined || !route.peers.has(from)) return;
    // The canonical encoding: what the upstream's copy will encode to, whatever the sender's frame looked like.
    rememberEcho(route, this.#options.encode(event.detail), from);
  }

  #onUpstream = (event: EnvelopeEvent): void => {
    const route = this.#routes.get(event.type);
    if (route === undefined) return;
    const relay = this.#relay;
    if (relay !== undefined && relay.event === event) {
      relay.seen = true;
      this.#deliver(route, event, relay.frame, relay.from);
    } else if (route.echoes !== undefined) {
      const frame = this.#options.encode(event.detail);
      this.#deliver(route, event, frame, takeEcho(route, frame));
    } else this.#deliver(route, event, undefined, undefined);
  };

  /** Delivers an event to local listeners and `route`'s connections but `exclude`. */
  #deliver(route: Route<F>, event: EnvelopeEvent, frame: F | undefined, exclude: HubPeer<F> | undefined): void {
    const topic = event.type;
    if (route.local > 0) this.#options.deliverLocal(realEvent(event));
    const history = this.#history;
    if (history !== undefined) {
      frame ??= this.#options.encode(event.detail);
      this.#deliveries += history.deliverAll(topic, route.peers, event, frame, frameSize(frame), exclude);
      return;
    }
    if (route.peers.size === 0) return;
    if (frame === undefined) frame = this.#options.encode(event.detail);
    const fanOut = this.#options.fanOut;
    if (fanOut !== undefined) {
      const recipients = route.peers.size - (exclude !== undefined && route.peers.has(exclude) ? 1 : 0);
      this.#deliveries += recipients;
      if (recipients > 0) fanOut(topic, frame, exclude, recipients);
      return;
    }
    for (const peer of route.peers) {
      if (peer === exclude) continue;
      this.#deliveries++;
      peer.sendData(frame);
    }
  }
}

/** `topicFor` of a decoded envelope, whose `type` and `id` `decodeEnvelope` has checked: without checking again. */
function validTopic(type: string, id: string): string {
  return type.indexOf(":") === -1 && type.indexOf("%") === -1 ? type + ":" + id : topicFor(type, id);
}
