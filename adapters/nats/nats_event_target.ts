/**
 * `createNatsEventTarget`: the core event-target contract over NATS core
 * publish/subscribe, through a connection of the official client.
 *
 * @module
 */

import { type Codec, decodeEnvelope, jsonCodec, outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, PubSubClosedError, PubSubError } from "../../core/errors.ts";
import { errorReporter } from "../../core/error_reporter.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import {
  type AddListenerOptions,
  type EnvelopeEvent,
  type EventEnvelope,
  isTopic,
  type SubscriptionReadiness,
  type TypedEvent,
  type TypedEventListenerOrEventListenerObject,
  type TypedEventTarget,
} from "../../core/types.ts";
import { NatsConnectionError, NatsLimitError, NatsOperationError } from "./errors.ts";
import { checkSubjectPrefix, subjectToken } from "./subject.ts";
import type { NatsConnectionLike, NatsMessage, NatsStatus, NatsSubscriptionHandle } from "./types.ts";

/**
 * The adapter's view of its connection:
 * - `"ready"`: connected, and every subscription is live (the initial state,
 *   or `"reconnecting"` when the client holds no server INFO as the target
 *   is created; the client's next status corrects either);
 * - `"reconnecting"`: the connection was lost; the client is reconnecting.
 *   Events other processes publish meanwhile are lost; this target's own
 *   publishes are held (up to `maxQueued`) and sent after the reconnection;
 * - `"resubscribing"`: connected again; the client has re-sent every
 *   subscription and the adapter waits for a flush round trip to prove the
 *   server holds them (then `"ready"`, and a `"resubscribed"` event);
 * - `"ended"`: the connection closed for good; the target dispatched
 *   `"close"` and does not resume (`close()` still releases it);
 * - `"closed"`: `close()` was called.
 *
 * @example
 * ```ts
 * import type { NatsConnectionState } from "@alkdev/pubsub/nats";
 *
 * const state: NatsConnectionState = "ready";
 * ```
 */
export type NatsConnectionState = "ready" | "reconnecting" | "resubscribing" | "ended" | "closed";

/**
 * The `detail` of the `"state"` event a {@linkcode NatsEventTarget}
 * dispatches on every state change (the same shape as the Redis target's).
 *
 * @example
 * ```ts
 * import type { NatsStateChange } from "@alkdev/pubsub/nats";
 *
 * const change: NatsStateChange = { state: "reconnecting", previous: "ready" };
 * ```
 */
export interface NatsStateChange {
  /** The new state. */
  state: NatsConnectionState;
  /** The state before. */
  previous: NatsConnectionState;
}

/**
 * Where an error reported through `onError` came from.
 *
 * @example
 * ```ts
 * import type { NatsErrorContext } from "@alkdev/pubsub/nats";
 *
 * const context: NatsErrorContext = { operation: "message", subject: "alk.events.ping:1" };
 * ```
 */
export interface NatsErrorContext {
  /**
   * `"message"`: an incoming message was not a valid envelope for its
   * subject; `"publish"`, `"subscribe"`: the client or server refused one;
   * `"connection"`: the connection closed for good.
   */
  operation: "message" | "publish" | "subscribe" | "connection";
  /** The subject, when one is involved. */
  subject?: string;
}

/**
 * Options for {@linkcode createNatsEventTarget}.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import type { NatsEventTargetOptions } from "@alkdev/pubsub/nats";
 *
 * const options: NatsEventTargetOptions = { connection: await connect(), prefix: "app.events" };
 * ```
 */
export interface NatsEventTargetOptions {
  /**
   * A connection of the official client (`connect()` from
   * `@nats-io/transport-node` 3.x). It may be shared; the target never
   * closes it.
   */
  connection: NatsConnectionLike;
  /**
   * The subject prefix: one or more `.`-separated tokens without wildcards.
   * A topic's subject is `prefix + "." + token` (see {@linkcode subjectToken}).
   * Targets with different prefixes never see each other's events.
   *
   * @default {"alk.events"}
   */
  prefix?: string;
  /**
   * Encodes envelopes for the wire; `decode` receives the message's bytes.
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * Receives what goes wrong without being anyone's fault in this process:
   * invalid incoming messages (`EnvelopeError`), publishes and subscribes
   * the client or server refused ({@linkcode NatsOperationError}), and the
   * end of the connection ({@linkcode NatsConnectionError}). Never throws
   * into the client: if `onError` throws, that is logged.
   *
   * @default {console.error with a "[@alkdev/pubsub/nats]" prefix}
   */
  onError?: (error: PubSubError, context: NatsErrorContext) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
  /**
   * The longest subject the target sends, in characters. NATS closes a
   * connection whose protocol line exceeds the server's `max_control_line`
   * (4096 bytes by default), so longer topics fail `publish` and `subscribe`
   * with {@linkcode NatsLimitError} instead.
   *
   * @default {2048}
   */
  maxSubjectLength?: number;
  /**
   * The most events held while the connection is down. The NATS client
   * discards what it buffered when it reconnects, so the target holds
   * publishes itself from the moment it sees the connection drop and sends
   * them, in order, once the client has reconnected. Beyond this, publishes
   * are dropped and reported through `onError` ({@linkcode NatsOperationError});
   * `close()` and the end of the connection drop what is still held.
   *
   * @default {10000}
   */
  maxQueued?: number;
}

/**
 * An event target over NATS. Besides the event-target contract and
 * `ready(topic)`, it exposes the connection state, the subject of a topic,
 * its NATS subscription count and `close()`.
 *
 * Non-topic event names (without `:`) are local only and never reach NATS;
 * the target dispatches three of them itself:
 * - `"state"`, a `CustomEvent` whose `detail` is a {@linkcode NatsStateChange};
 * - `"resubscribed"`, a `CustomEvent` whose `detail` is `{ subjects: number }`,
 *   after a reconnection once the server holds every subscription again
 *   (proven by a flush round trip);
 * - `"close"` (no `detail`), at most once: on `close()`, or when the
 *   connection closes for good (state `"ended"`), whichever comes first.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { createNatsEventTarget, type NatsEventTarget } from "@alkdev/pubsub/nats";
 *
 * const connection = await connect({ servers: "127.0.0.1:4222" });
 * const target: NatsEventTarget = createNatsEventTarget({ connection });
 * console.log(target.state, target.subjectFor("job.progress:1")); // "ready" "alk.events.job_2eprogress:1"
 * await target.close();
 * await connection.close();
 * ```
 */
export interface NatsEventTarget extends TypedEventTarget<EnvelopeEvent>, SubscriptionReadiness {
  /** The connection state; changes are dispatched as `"state"` events. */
  readonly state: NatsConnectionState;
  /** The subject prefix. */
  readonly prefix: string;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
  /** How many NATS subscriptions the target holds (one per topic with local listeners). */
  readonly subscriptionCount: number;
  /** Returns the NATS subject for a topic. */
  subjectFor(topic: string): string;
  /**
   * Settles when the subscription for `topic` is live: at once if the target
   * holds no listener for it; otherwise after a flush round trip following
   * the SUB (after a reconnection: after `"resubscribed"`). Rejects with
   * {@linkcode NatsConnectionError} if the connection ended, with
   * {@linkcode NatsOperationError} if the client refused the subscription,
   * and with `PubSubClosedError` on `close()`.
   */
  ready(topic: string): Promise<void>;
  /** Counts local listeners: for one event name (topic), or all of them. */
  listenerCount(type?: string): number;
  /**
   * Unsubscribes every subject of the target (and flushes, if connected),
   * stops watching the connection's status, rejects waiting `ready()`
   * calls, dispatches `"close"` (unless the target already did, on ending)
   * and drops local listeners. Never closes the connection. Idempotent.
   */
  close(): Promise<void>;
}

interface SubjectRecord {
  subject: string;
  topic: string;
  handle: NatsSubscriptionHandle | undefined;
  /** Subscribed in order: the resubscribe flush only vouches for records older than it. */
  seq: number;
  live: boolean;
  error: PubSubError | undefined;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

const DEFAULT_PREFIX = "alk.events";
const LOG_PREFIX = "[@alkdev/pubsub/nats]";
const encoder = new TextEncoder();

/**
 * Creates an event target over NATS core publish/subscribe.
 *
 * - Wire format: each event is the whole envelope `{ type, id, payload }`
 *   encoded by `codec` (JSON by default), published to the topic's subject
 *   `prefix + "." + subjectToken(topic)`: one token, never a wildcard, and
 *   two topics never share one.
 * - One NATS subscription per subject, made for the first local listener of
 *   a topic and unsubscribed after the last; `ready(topic)` settles after a
 *   flush round trip.
 * - A publish reaches the publisher's own local listeners through the
 *   server, once (NATS echoes to the publishing connection; for a connection
 *   made with `noEcho: true`, the target delivers locally instead).
 * - Delivery is at most once: events published while a subscription is not
 *   live (before `ready`, during a reconnection) are lost.
 * - An event whose encoded envelope exceeds the server's `max_payload` fails
 *   at `publish` with {@linkcode NatsLimitError}; invalid incoming messages
 *   go to `onError` and are dropped.
 *
 * @param options The connection and settings.
 * @returns The event target.
 * @throws {TypeError} For an invalid prefix.
 * @throws {RangeError} For an invalid `maxSubjectLength`.
 *
 * @example Two processes (here: two targets) connected through NATS
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createNatsEventTarget } from "@alkdev/pubsub/nats";
 *
 * const connection = await connect({ servers: "127.0.0.1:4222" });
 * const eventTarget = createNatsEventTarget({ connection, prefix: "app.events" });
 * const pubsub = createPubSub<{ "job.progress": number }>({ eventTarget });
 *
 * const progress = pubsub.subscribe("job.progress", "job-1");
 * await pubsub.ready("job.progress", "job-1"); // SUB flushed to the server
 * pubsub.publish("job.progress", "job-1", 50);
 * console.log((await progress.next()).value); // 50
 *
 * pubsub.close();
 * await eventTarget.close();
 * await connection.close();
 * ```
 */
export function createNatsEventTarget(options: NatsEventTargetOptions): NatsEventTarget {
  return new NatsEventTargetImpl(options);
}

class NatsEventTargetImpl extends TransportEventTarget implements NatsEventTarget {
  readonly prefix: string;
  #conn: NatsConnectionLike;
  #codec: Codec;
  #report: (error: PubSubError, context: NatsErrorContext) => void;
  #maxSubjectLength: number;
  /** Deliver locally at publish: the connection does not echo our own messages. */
  #noEcho: boolean;
  #maxPayload: number | undefined;
  #records = new Map<string, SubjectRecord>();
  #state: NatsConnectionState;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Bumped on every connection loss and reconnection; stale flushes vouch for nothing. */
  #generation = 0;
  #seq = 0;
  #statuses: AsyncIterable<NatsStatus> | undefined;
  #maxQueued: number;
  #outbox: { subject: string; data: Uint8Array }[] = [];

  constructor(options: NatsEventTargetOptions) {
    super(options);
    this.#conn = options.connection;
    this.prefix = checkSubjectPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.#codec = options.codec ?? jsonCodec;
    this.#report = errorReporter(options.onError, LOG_PREFIX, "subject");
    this.#maxSubjectLength = options.maxSubjectLength ?? 2048;
    if (!Number.isInteger(this.#maxSubjectLength) || this.#maxSubjectLength < this.prefix.length + 2) {
      throw new RangeError(
        `Cannot create a NATS event target: maxSubjectLength must be an integer over the prefix's length, got ${this.#maxSubjectLength}`,
      );
    }
    this.#maxQueued = options.maxQueued ?? 10_000;
    if (!Number.isInteger(this.#maxQueued) || this.#maxQueued < 0) {
      throw new RangeError(
        `Cannot create a NATS event target: maxQueued must be a non-negative integer, got ${this.#maxQueued}`,
      );
    }
    this.#noEcho = (this.#conn as { options?: { noEcho?: boolean } }).options?.noEcho === true;
    this.#maxPayload = this.#conn.info?.max_payload;
    if (this.#conn.isClosed()) {
      this.#state = "ended";
      this.emitClose();
    } else {
      // The client holds no server INFO while it is between connections.
      this.#state = this.#conn.info === undefined ? "reconnecting" : "ready";
      void this.#watch();
    }
  }

  get state(): NatsConnectionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const record of this.#records.values()) if (record.handle !== undefined) n++;
    return n;
  }

  subjectFor(topic: string): string {
    return this.prefix + "." + subjectToken(topic);
  }

  override addEventListener(
    type: string,
    listener: TypedEventListenerOrEventListenerObject<EnvelopeEvent> | null,
    options?: boolean | AddListenerOptions,
  ): void {
    if (!this.#closed && listener !== null && isTopic(type)) this.#checkedSubject(type); // throws before it is added
    super.addEventListener(type, listener, options);
  }

  /** The first local listener of a topic subscribes its subject; the last one leaving unsubscribes it. */
  protected override onTopicInterest(topic: string): void {
    this.#sync(topic);
  }

  dispatchEvent(event: EnvelopeEvent): boolean {
    if (this.#closed) {
      throw new PubSubClosedError(`Cannot publish to ${JSON.stringify(event.type)}: the target is closed`);
    }
    const topic = event.type;
    if (!isTopic(topic)) return this.dispatchLocal(event);
    const envelope = outgoingEnvelope(event.detail, topic);
    this.#send(this.#checkedSubject(topic), envelope);
    if (this.#noEcho) this.dispatchLocal(event);
    return true;
  }

  ready(topic: string): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new PubSubClosedError("Cannot wait for a subscription: the target is closed"));
    }
    const record = this.#records.get(this.subjectFor(topic));
    if (record === undefined || record.live) return Promise.resolve();
    if (record.error !== undefined) return Promise.reject(record.error);
    return new Promise((resolve, reject) => record.waiters.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const wasReady = this.#state === "ready";
    this.#closed = true;
    this.#generation++;
    this.#stopWatching();
    this.#outbox = [];
    const closedError = new PubSubClosedError("The NATS event target was closed");
    let unsubscribed = 0;
    for (const record of this.#records.values()) {
      if (this.#release(record)) unsubscribed++;
      for (const waiter of record.waiters.splice(0)) waiter.reject(closedError);
    }
    this.#records.clear();
    this.#setState("closed");
    this.emitClose();
    this.dropListeners();
    // The UNSUBs are queued in the client; a flush makes sure the server has them (a down connection sends them,
    // if at all, on reconnect, and waiting for that could take forever).
    this.#closing = wasReady && unsubscribed > 0 && !this.#conn.isClosed()
      ? this.#conn.flush().catch(() => {})
      : Promise.resolve();
    return this.#closing;
  }

  #checkedSubject(topic: string): string {
    const subject = this.subjectFor(topic);
    if (subject.length > this.#maxSubjectLength) {
      throw new NatsLimitError("maxSubjectLength", subject, subject.length, this.#maxSubjectLength);
    }
    return subject;
  }

  #send(subject: string, envelope: EventEnvelope): void {
    const encoded = this.#codec.encode(envelope);
    const data = typeof encoded === "string" ? encoder.encode(encoded) : encoded;
    const info = this.#conn.info;
    if (info !== undefined) this.#maxPayload = info.max_payload;
    const max = this.#maxPayload;
    if (max !== undefined && data.byteLength > max) {
      throw new NatsLimitError("max_payload", subject, data.byteLength, max);
    }
    if (this.#state === "reconnecting") {
      if (this.#outbox.length < this.#maxQueued) this.#outbox.push({ subject, data });
      else {
        const error = new Error(`The connection is down and ${this.#maxQueued} events are already held`);
        this.#report(new NatsOperationError("publish", subject, error), { operation: "publish", subject });
      }
      return;
    }
    this.#publish(subject, data);
  }

  #publish(subject: string, data: Uint8Array): void {
    try {
      this.#conn.publish(subject, data);
    } catch (error) {
      this.#report(new NatsOperationError("publish", subject, error), { operation: "publish", subject });
    }
  }

  /** Sends the publishes held while the connection was down, in order. */
  #flushOutbox(): void {
    const held = this.#outbox;
    this.#outbox = [];
    for (const { subject, data } of held) this.#publish(subject, data);
  }

  /** Subscribes or unsubscribes `topic`'s subject to match whether it has local listeners. */
  #sync(topic: string): void {
    if (this.#closed) return;
    const subject = this.subjectFor(topic);
    const record = this.#records.get(subject);
    const wanted = this.listenerCount(topic) > 0;
    if (wanted && record === undefined) this.#subscribe(subject, topic);
    else if (!wanted && record !== undefined) {
      this.#release(record);
      this.#records.delete(subject);
      for (const waiter of record.waiters.splice(0)) waiter.resolve();
    }
  }

  #subscribe(subject: string, topic: string): void {
    const record: SubjectRecord = {
      subject,
      topic,
      handle: undefined,
      seq: ++this.#seq,
      live: false,
      error: undefined,
      waiters: [],
    };
    this.#records.set(subject, record);
    if (this.#state === "ended") {
      record.error = new NatsConnectionError("The NATS connection has closed; the subscription cannot be made");
      return;
    }
    try {
      record.handle = this.#conn.subscribe(subject, {
        callback: (error, message) => this.#onMessage(record, error, message),
      });
    } catch (error) {
      const reported = new NatsOperationError("subscribe", subject, error);
      record.error = reported;
      this.#report(reported, { operation: "subscribe", subject });
      return;
    }
    const generation = this.#generation;
    this.#conn.flush().then(() => {
      if (generation === this.#generation && this.#records.get(subject) === record) this.#markLive(record);
    }, () => {}); // a flush lost to a disconnect: the resubscribe after the reconnect vouches instead
  }

  /** Unsubscribes a record's subject; whether an UNSUB was sent. */
  #release(record: SubjectRecord): boolean {
    const handle = record.handle;
    record.handle = undefined;
    record.live = false;
    if (handle === undefined || this.#conn.isClosed()) return false;
    try {
      handle.unsubscribe();
      return true;
    } catch {
      return false; // the connection closed under us: its subscriptions are gone with it
    }
  }

  #markLive(record: SubjectRecord): void {
    if (this.#state !== "ready" && this.#state !== "resubscribing") return;
    record.live = true;
    for (const waiter of record.waiters.splice(0)) waiter.resolve();
  }

  #onMessage(record: SubjectRecord, error: Error | null, message: NatsMessage): void {
    try {
      if (this.#closed || this.#records.get(record.subject) !== record) return;
      if (error !== null) {
        const reported = new NatsOperationError("subscribe", record.subject, error);
        record.error = reported;
        for (const waiter of record.waiters.splice(0)) waiter.reject(reported);
        this.#report(reported, { operation: "subscribe", subject: record.subject });
        return;
      }
      let envelope: EventEnvelope;
      try {
        envelope = decodeEnvelope(message.data, this.#codec, record.topic);
      } catch (thrown) {
        const reported = thrown instanceof PubSubError ? thrown : new EnvelopeError(
          `Cannot decode a message on NATS subject ${JSON.stringify(record.subject)}`,
          { cause: thrown },
        );
        this.#report(reported, { operation: "message", subject: record.subject });
        return;
      }
      // Paced: the client hands over a socket chunk's messages at once; consumers that keep up get turns between slices.
      this.deliverRemote(new CustomEvent(record.topic, { detail: envelope }) as EnvelopeEvent);
    } catch (thrown) {
      // Never throw into the client's callback.
      console.error(`${LOG_PREFIX} Unexpected error while handling a message:`, thrown);
    }
  }

  async #watch(): Promise<void> {
    const statuses = this.#conn.status();
    this.#statuses = statuses;
    try {
      for await (const status of statuses) {
        if (this.#closed) break;
        this.#onStatus(status);
      }
    } catch (error) {
      if (!this.#closed) console.error(`${LOG_PREFIX} The connection's status stream failed:`, error);
    }
    if (!this.#closed && this.#conn.isClosed()) this.#onEnded();
  }

  #stopWatching(): void {
    const statuses = this.#statuses as { stop?: () => void } | undefined;
    this.#statuses = undefined;
    // The client's status iterator ends (and leaves the connection's listener list) on stop(); a pending
    // next() would otherwise hold it until the next status change.
    statuses?.stop?.();
  }

  #onStatus(status: NatsStatus): void {
    switch (status.type) {
      case "disconnect":
      case "reconnecting":
        if (this.#state === "ready" || this.#state === "resubscribing") {
          this.#generation++;
          for (const record of this.#records.values()) record.live = false;
          this.#setState("reconnecting");
        }
        break;
      case "reconnect":
        void this.#resubscribe();
        break;
      case "close":
        this.#onEnded();
        break;
    }
  }

  async #resubscribe(): Promise<void> {
    if (this.#state === "ended") return;
    const generation = ++this.#generation;
    for (const record of this.#records.values()) record.live = false;
    this.#setState("resubscribing");
    this.#flushOutbox();
    // The client re-sends every SUB before anything else on a new connection: a round trip after it proves
    // the server holds all of them (and those made since, up to this point).
    const upTo = this.#seq;
    try {
      await this.#conn.flush();
    } catch {
      return; // lost again; the next "reconnect" starts over
    }
    if (generation !== this.#generation || this.#closed) return;
    this.#setState("ready");
    for (const record of this.#records.values()) {
      if (record.seq <= upTo && record.handle !== undefined) this.#markLive(record);
    }
    this.emit("resubscribed", { subjects: this.#records.size });
  }

  #onEnded(): void {
    if (this.#closed || this.#state === "ended") return;
    this.#generation++;
    this.#setState("ended");
    const dropped = this.#outbox.splice(0);
    if (dropped.length > 0) {
      const cause = new Error(`The connection closed with ${dropped.length} events held`);
      const subject = dropped[0].subject;
      this.#report(new NatsOperationError("publish", subject, cause), { operation: "publish", subject });
    }
    const error = new NatsConnectionError("The NATS connection closed; subscriptions are not live");
    for (const record of this.#records.values()) {
      record.handle = undefined; // gone with the connection
      record.live = false;
      record.error = error;
      for (const waiter of record.waiters.splice(0)) waiter.reject(error);
    }
    this.#report(error, { operation: "connection" });
    this.emitClose();
  }

  #setState(state: NatsConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    const detail: NatsStateChange = { state, previous };
    this.emit("state", detail);
  }
}
