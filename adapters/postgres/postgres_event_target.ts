/**
 * `createPostgresEventTarget`: the core event-target contract over
 * PostgreSQL `LISTEN`/`NOTIFY`, through `pg` clients the user provides.
 *
 * @module
 */

import { Backoff, type BackoffOptions } from "../../core/backoff.ts";
import { type Codec, decodeEnvelope, jsonCodec, outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, PubSubClosedError, PubSubError } from "../../core/errors.ts";
import { topicFor } from "../../core/topic.ts";
import { errorReporter } from "../../core/error_reporter.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import {
  type EnvelopeEvent,
  type EventEnvelope,
  isTopic,
  type SubscriptionReadiness,
  type TypedEvent,
  type TypedEventTarget,
} from "../../core/types.ts";
import { channelFor, checkChannelPrefix, quoteIdentifier } from "./channel.ts";
import { PostgresConnectionError } from "./errors.ts";
import { DEFAULT_PREFIX, encodeNotification, NOTIFY_SQL, type NotifyQuery, publishIn } from "./notify.ts";
import { NotifyQueue } from "./notify_queue.ts";
import type { PgListenClient, PgNotification, PgQueryable } from "./types.ts";

/**
 * The adapter's view of its listening connection:
 * - `"connecting"`: the first connection is being opened (the initial state);
 * - `"ready"`: connected, and every channel with local listeners is `LISTEN`ed;
 * - `"reconnecting"`: the listening connection was lost; the target opens a
 *   new one with backoff. Events published meanwhile are not received;
 * - `"resubscribing"`: connected again; the target re-`LISTEN`s every channel
 *   (then `"ready"`, and a `"resubscribed"` event);
 * - `"closed"`: `close()` was called.
 *
 * @example
 * ```ts
 * import type { PostgresConnectionState } from "@alkdev/pubsub/postgres";
 *
 * const state: PostgresConnectionState = "ready";
 * ```
 */
export type PostgresConnectionState = "connecting" | "ready" | "reconnecting" | "resubscribing" | "closed";

/**
 * The `detail` of the `"state"` event a {@linkcode PostgresEventTarget}
 * dispatches on every state change (the same shape as the Redis and NATS
 * targets').
 *
 * @example
 * ```ts
 * import type { PostgresStateChange } from "@alkdev/pubsub/postgres";
 *
 * const change: PostgresStateChange = { state: "reconnecting", previous: "ready" };
 * ```
 */
export interface PostgresStateChange {
  /** The new state. */
  state: PostgresConnectionState;
  /** The state before. */
  previous: PostgresConnectionState;
}

/**
 * Where an error reported through `onError` came from.
 *
 * @example
 * ```ts
 * import type { PostgresErrorContext } from "@alkdev/pubsub/postgres";
 *
 * const context: PostgresErrorContext = { operation: "message", channel: "alk.events:ping:1" };
 * ```
 */
export interface PostgresErrorContext {
  /**
   * `"message"`: a notification on one of our channels was not a valid
   * envelope for it; `"publish"`: a `pg_notify` failed; `"listen"`: a
   * `LISTEN`/`UNLISTEN` failed; `"connection"`: opening the listening
   * connection failed, or it was lost.
   */
  operation: "message" | "publish" | "listen" | "connection";
  /** The channel, when one is involved. */
  channel?: string;
}

/**
 * Options for {@linkcode createPostgresEventTarget}.
 *
 * @example
 * ```ts ignore
 * import pg from "pg";
 * import type { PostgresEventTargetOptions } from "@alkdev/pubsub/postgres";
 *
 * const url = "postgres://postgres@127.0.0.1:5432/test";
 * const options: PostgresEventTargetOptions = {
 *   client: new pg.Pool({ connectionString: url }),
 *   connect: async () => {
 *     const client = new pg.Client({ connectionString: url, keepAlive: true });
 *     await client.connect();
 *     return client;
 *   },
 * };
 * ```
 */
export interface PostgresEventTargetOptions {
  /**
   * Runs the target's `pg_notify` queries: a `pg` `Pool` or `Client`. It may
   * be shared; the target never ends it.
   */
  client: PgQueryable;
  /**
   * Opens a new, connected `pg` `Client` for the target to `LISTEN` on: at
   * creation and again after each loss of the connection. The target owns
   * what it returns (one connection at a time) and ends it on `close()`.
   * Enable `keepAlive` so a silently dead connection is noticed.
   */
  connect: () => Promise<PgListenClient>;
  /**
   * The channel prefix (see `checkChannelPrefix`): targets with different
   * prefixes never see each other's events.
   *
   * @default {"alk.events:"}
   */
  prefix?: string;
  /**
   * Encodes envelopes for the wire; its output must be text (bytes are read
   * as UTF-8), and `decode` receives the notification's payload string.
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * Receives what goes wrong without being anyone's fault in this process:
   * invalid notifications (`EnvelopeError`), failed `pg_notify` queries
   * (`PostgresPublishError`), a lost or unopenable listening
   * connection and failed `LISTEN`s ({@linkcode PostgresConnectionError}).
   * Never throws into the client: if `onError` throws, that is logged.
   *
   * @default {console.error with a "[@alkdev/pubsub/postgres]" prefix}
   */
  onError?: (error: PubSubError, context: PostgresErrorContext) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
  /**
   * Reconnect timing of the listening connection (core `Backoff`, jitter
   * `"equal"`).
   *
   * @default {{ initialDelay: 100, maxDelay: 10000, factor: 2, resetAfter: 10000 }}
   */
  reconnect?: BackoffOptions;
  /**
   * The most events waiting to be sent: the target hands `client` at most
   * `inFlight` `pg_notify` queries at a time and sends the events published
   * meanwhile together in the next one. Beyond this,
   * publishes are dropped and reported through `onError`
   * (`PostgresPublishError`).
   *
   * @default {10000}
   */
  maxQueued?: number;
  /**
   * The most `pg_notify` queries handed to `client` before the first one
   * completes (events published meanwhile go together in the next one). Only
   * 1 keeps every publisher's order over a `pg.Pool`, which runs queries on
   * several connections at once; on a `pg.Client`, more than 1 relies on pg
   * queueing a query behind a running one, which pg 8 deprecates (it prints a
   * `DeprecationWarning`) and pg 9 removes.
   *
   * @default {1}
   */
  inFlight?: number;
}

/**
 * An event target over PostgreSQL `LISTEN`/`NOTIFY`. Besides the
 * event-target contract and `ready(topic)`, it exposes the connection state,
 * the channel of a topic, the transactional helpers and `close()`.
 *
 * Non-topic event names (without `:`) are local only; the target dispatches
 * three of them itself:
 * - `"state"`, a `CustomEvent` whose `detail` is a {@linkcode PostgresStateChange};
 * - `"resubscribed"`, a `CustomEvent` whose `detail` is `{ channels: number }`,
 *   after a reconnection once every channel is `LISTEN`ed again;
 * - `"close"` (no `detail`), once, on `close()`.
 *
 * @example
 * ```ts ignore
 * const target: PostgresEventTarget = createPostgresEventTarget({ client: pool, connect });
 * console.log(target.channelFor("job.progress:1")); // "alk.events:job.progress:1"
 * await target.close();
 * ```
 */
export interface PostgresEventTarget extends TypedEventTarget<EnvelopeEvent>, SubscriptionReadiness {
  /** The connection state; changes are dispatched as `"state"` events. */
  readonly state: PostgresConnectionState;
  /** The channel prefix. */
  readonly prefix: string;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
  /** How many channels are `LISTEN`ed on the current connection (one per topic with local listeners). */
  readonly listeningCount: number;
  /** Returns the PostgreSQL channel of a topic (see `channelFor`). */
  channelFor(topic: string): string;
  /**
   * Settles when `topic`'s channel is `LISTEN`ed on the current connection:
   * at once if the target holds no listener for it. Rejects with
   * {@linkcode PostgresConnectionError} if the server refused the `LISTEN`,
   * and with `PubSubClosedError` on `close()`.
   */
  ready(topic: string): Promise<void>;
  /** Counts local listeners: for one event name (topic), or all of them. */
  listenerCount(type?: string): number;
  /**
   * The query publishing one event with this target's prefix and codec, for
   * the caller's own transaction (see `notifyQuery`).
   */
  notifyQuery(type: string, id: string, payload: unknown): NotifyQuery;
  /** Publishes one event on `tx` with this target's prefix and codec (see `publishIn`). */
  publishIn(tx: PgQueryable, type: string, id: string, payload: unknown): Promise<void>;
  /**
   * Sends the events still queued, `UNLISTEN`s everything and ends the
   * listening connection, rejects waiting `ready()` calls, dispatches
   * `"close"` and drops local listeners. Never ends `client`. Idempotent.
   */
  close(): Promise<void>;
}

interface ChannelRecord {
  channel: string;
  /** The topics with local listeners mapped to this channel (more than one only on a hash collision). */
  topics: Set<string>;
  /** `LISTEN` is in force on the current connection. */
  listening: boolean;
  op: Promise<void> | null;
  error: PubSubError | undefined;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

const LOG_PREFIX = "[@alkdev/pubsub/postgres]";
/** The most `LISTEN` statements in one query when re-listening. */
const LISTEN_BATCH = 1000;

/**
 * Creates an event target over PostgreSQL `LISTEN`/`NOTIFY`.
 *
 * - Wire format: each event is the whole envelope `{ type, id, payload }`
 *   encoded by `codec` (JSON by default) as the payload of a notification on
 *   the topic's channel (`channelFor(prefix, topic)`: at most 63 bytes, quoted
 *   wherever SQL names it). Payloads must be under 8000 bytes: a larger event
 *   fails `publish` with {@linkcode PostgresLimitError}.
 * - One listening connection per target (from `connect`), with one `LISTEN`
 *   per channel, made for the first local listener of a topic and
 *   `UNLISTEN`ed after the last. `ready(topic)` settles once the `LISTEN` is
 *   in force.
 * - A publish reaches every listening target, this one included, once,
 *   through the server, in the order published. Events published together
 *   are sent in one query.
 * - Delivery is at most once: events published while the listening
 *   connection is down are not received by this target. Invalid
 *   notifications go to `onError` and are dropped.
 *
 * @param options The clients and settings.
 * @returns The event target.
 * @throws {TypeError} For an invalid prefix.
 * @throws {RangeError} For an invalid `maxQueued`, `inFlight` or `reconnect`.
 *
 * @example
 * ```ts ignore
 * import pg from "pg";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createPostgresEventTarget } from "@alkdev/pubsub/postgres";
 *
 * const url = "postgres://postgres@127.0.0.1:5432/test";
 * const pool = new pg.Pool({ connectionString: url });
 * const eventTarget = createPostgresEventTarget({
 *   client: pool,
 *   connect: async () => {
 *     const client = new pg.Client({ connectionString: url, keepAlive: true });
 *     await client.connect();
 *     return client;
 *   },
 * });
 * const pubsub = createPubSub<{ "job.progress": number }>({ eventTarget });
 *
 * const progress = pubsub.subscribe("job.progress", "job-1");
 * await pubsub.ready("job.progress", "job-1"); // LISTEN in force
 * pubsub.publish("job.progress", "job-1", 50);
 * console.log((await progress.next()).value); // 50
 *
 * pubsub.close();
 * await eventTarget.close();
 * await pool.end();
 * ```
 */
export function createPostgresEventTarget(options: PostgresEventTargetOptions): PostgresEventTarget {
  return new PostgresEventTargetImpl(options);
}

class PostgresEventTargetImpl extends TransportEventTarget implements PostgresEventTarget {
  readonly prefix: string;
  #connect: () => Promise<PgListenClient>;
  #codec: Codec;
  #report: (error: PubSubError, context: PostgresErrorContext) => void;
  #backoff: Backoff;
  #outbox: NotifyQueue;
  #records = new Map<string, ChannelRecord>();
  #state: PostgresConnectionState = "connecting";
  #closed = false;
  #closing: Promise<void> | undefined;
  /** The listening connection, once it is open. */
  #conn: PgListenClient | undefined;
  /** The listening connection's last query: the next waits for it (pg deprecates overlapping queries on one client). */
  #lastQuery: Promise<unknown> = Promise.resolve();
  /** `LISTEN`/`UNLISTEN` may be sent on `#conn`: set after (re-)listening every channel. */
  #connReady = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: PostgresEventTargetOptions) {
    super(options);
    this.#connect = options.connect;
    this.prefix = checkChannelPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.#codec = options.codec ?? jsonCodec;
    this.#report = errorReporter(options.onError, LOG_PREFIX, "channel");
    this.#backoff = new Backoff({ initialDelay: 100, maxDelay: 10_000, ...options.reconnect }, "equal");
    const maxQueued = options.maxQueued ?? 10_000;
    if (!Number.isInteger(maxQueued) || maxQueued < 1) {
      throw new RangeError(
        `Cannot create a PostgreSQL event target: maxQueued must be a positive integer, got ${maxQueued}`,
      );
    }
    const inFlight = options.inFlight ?? 1;
    if (!Number.isInteger(inFlight) || inFlight < 1) {
      throw new RangeError(
        `Cannot create a PostgreSQL event target: inFlight must be a positive integer, got ${inFlight}`,
      );
    }
    this.#outbox = new NotifyQueue(options.client, maxQueued, inFlight, (error) => {
      this.#report(error, { operation: "publish", channel: error.channel });
    });
    void this.#open();
  }

  get state(): PostgresConnectionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get listeningCount(): number {
    let n = 0;
    for (const record of this.#records.values()) if (record.listening) n++;
    return n;
  }

  channelFor(topic: string): string {
    return channelFor(this.prefix, topic);
  }

  notifyQuery(type: string, id: string, payload: unknown): NotifyQuery {
    const envelope = outgoingEnvelope({ type, id, payload });
    return { text: NOTIFY_SQL, values: encodeNotification(this.prefix, this.#codec, envelope) };
  }

  publishIn(tx: PgQueryable, type: string, id: string, payload: unknown): Promise<void> {
    return publishIn(tx, type, id, payload, { prefix: this.prefix, codec: this.#codec });
  }

  /** The first local listener of a topic `LISTEN`s its channel; the last one leaving `UNLISTEN`s it. */
  protected override onTopicInterest(topic: string, interested: boolean): void {
    if (this.#closed) return;
    const channel = this.channelFor(topic);
    let record = this.#records.get(channel);
    if (interested) {
      if (record === undefined) {
        record = { channel, topics: new Set(), listening: false, op: null, error: undefined, waiters: [] };
        this.#records.set(channel, record);
      }
      if (record.topics.size === 0) record.error = undefined; // a new first listener retries a failed LISTEN
      record.topics.add(topic);
    } else {
      if (record === undefined) return;
      record.topics.delete(topic);
    }
    this.#sync(record);
  }

  dispatchEvent(event: EnvelopeEvent): boolean {
    if (this.#closed) {
      throw new PubSubClosedError(`Cannot publish to ${JSON.stringify(event.type)}: the target is closed`);
    }
    const topic = event.type;
    if (!isTopic(topic)) return this.dispatchLocal(event);
    const envelope = outgoingEnvelope(event.detail, topic);
    const [channel, payload] = encodeNotification(this.prefix, this.#codec, envelope, topic);
    this.#outbox.push(channel, payload);
    return true;
  }

  ready(topic: string): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new PubSubClosedError("Cannot wait for a subscription: the target is closed"));
    }
    const record = this.#records.get(this.channelFor(topic));
    if (record === undefined || !record.topics.has(topic) || isLive(record)) return Promise.resolve();
    if (record.error !== undefined) return Promise.reject(record.error);
    return new Promise((resolve, reject) => record.waiters.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoff.clear();
    const closedError = new PubSubClosedError("The PostgreSQL event target was closed");
    for (const record of this.#records.values()) {
      for (const waiter of record.waiters.splice(0)) waiter.reject(closedError);
    }
    this.#records.clear();
    this.#setState("closed");
    this.emitClose();
    this.dropListeners();
    const conn = this.#conn;
    this.#conn = undefined;
    this.#connReady = false;
    this.#closing = (async () => {
      await this.#outbox.flushed();
      if (conn !== undefined) await this.#end(conn, true);
    })();
    return this.#closing;
  }

  async #open(): Promise<void> {
    while (!this.#closed) {
      let conn: PgListenClient;
      try {
        conn = await this.#connect();
      } catch (error) {
        if (this.#closed) return;
        this.#report(new PostgresConnectionError("connect", error), { operation: "connection" });
        await this.#pause();
        continue;
      }
      if (this.#closed) {
        await this.#end(conn, false);
        return;
      }
      if (await this.#attach(conn)) return;
      await this.#pause();
    }
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve();
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        resolve();
      }, this.#backoff.next());
    });
  }

  /** Listens on `conn` and re-`LISTEN`s every channel; whether the connection is now the target's. */
  async #attach(conn: PgListenClient): Promise<boolean> {
    const onNotification = (message: PgNotification) => this.#onNotification(conn, message);
    const onLost = (error?: Error) => this.#onLost(conn, error);
    conn.on("notification", onNotification);
    conn.on("error", onLost);
    conn.on("end", onLost);
    this.#conn = conn;
    this.#connReady = false;
    const first = this.#state === "connecting";
    if (!first) this.#setState("resubscribing");
    const channels = [...this.#records.values()].filter((record) => record.topics.size > 0);
    try {
      for (let i = 0; i < channels.length; i += LISTEN_BATCH) {
        const batch = channels.slice(i, i + LISTEN_BATCH);
        await this.#query(conn, batch.map((record) => `LISTEN ${quoteIdentifier(record.channel)}`).join("; "));
        if (this.#conn !== conn) return true; // lost meanwhile: #onLost reconnects
        for (const record of batch) record.listening = true;
      }
    } catch (error) {
      if (this.#conn !== conn || this.#closed) return true;
      this.#report(new PostgresConnectionError("listen", error), { operation: "listen" });
      this.#conn = undefined;
      await this.#end(conn, false);
      return false;
    }
    this.#connReady = true;
    this.#backoff.connected();
    // Channels that gained or lost their listeners meanwhile.
    for (const record of this.#records.values()) this.#sync(record);
    await Promise.all([...this.#records.values()].map((record) => record.op));
    if (this.#conn !== conn || this.#closed) return true;
    this.#setState("ready");
    if (!first) this.emit("resubscribed", { channels: this.listeningCount });
    for (const record of this.#records.values()) if (isLive(record)) this.#settle(record);
    return true;
  }

  #onLost(conn: PgListenClient, error?: Error): void {
    if (this.#conn !== conn || this.#closed) return;
    this.#conn = undefined;
    this.#connReady = false;
    this.#backoff.clear();
    for (const record of this.#records.values()) record.listening = false;
    if (this.#state !== "connecting") this.#setState("reconnecting");
    const cause = error ?? new Error("The connection ended");
    this.#report(new PostgresConnectionError("connection", cause), { operation: "connection" });
    void this.#end(conn, false);
    void this.#pause().then(() => this.#open());
  }

  /** Runs `text` on `conn` once the previous query on the listening connection has settled. */
  #query(conn: PgListenClient, text: string): Promise<unknown> {
    const run = this.#lastQuery.then(() => conn.query(text));
    this.#lastQuery = run.catch(noop);
    return run;
  }

  /** Ends a listening connection the target opened; its "error" listener stays, so a late error is not thrown. */
  async #end(conn: PgListenClient, unlisten: boolean): Promise<void> {
    conn.on("error", noop);
    try {
      if (unlisten) await this.#query(conn, "UNLISTEN *");
    } catch {
      // gone already
    }
    try {
      await conn.end();
    } catch {
      // gone already
    }
  }

  /** Makes `record`'s `LISTEN` match whether it has listeners. */
  #sync(record: ChannelRecord): void {
    if (record.op !== null) return; // the running loop re-checks when its command settles
    if (!record.listening && record.topics.size === 0) {
      this.#forget(record);
      return;
    }
    record.op = this.#run(record);
  }

  async #run(record: ChannelRecord): Promise<void> {
    await undefined; // `record.op` is set before this loop can end
    while (!this.#closed) {
      const conn = this.#conn;
      if (conn === undefined || !this.#connReady) break; // (re)connecting: #attach listens for it
      const listen = record.topics.size > 0;
      if (listen === record.listening || (listen && record.error !== undefined)) break;
      try {
        await this.#query(conn, `${listen ? "LISTEN" : "UNLISTEN"} ${quoteIdentifier(record.channel)}`);
        if (this.#conn === conn) record.listening = listen;
      } catch (error) {
        if (this.#conn !== conn || this.#closed) continue; // the connection went: #onLost has reset it
        const reported = new PostgresConnectionError(listen ? "listen" : "unlisten", error);
        this.#report(reported, { operation: "listen", channel: record.channel });
        if (listen) {
          record.error = reported;
          for (const waiter of record.waiters.splice(0)) waiter.reject(reported);
        }
        break;
      }
    }
    record.op = null;
    if (this.#closed) return;
    if (record.topics.size === 0 && !record.listening) this.#forget(record);
    else if (isLive(record) && this.#connReady) this.#settle(record);
  }

  #forget(record: ChannelRecord): void {
    if (this.#records.get(record.channel) === record) this.#records.delete(record.channel);
    this.#settle(record);
  }

  #settle(record: ChannelRecord): void {
    for (const waiter of record.waiters.splice(0)) waiter.resolve();
  }

  #onNotification(conn: PgListenClient, message: PgNotification): void {
    try {
      if (this.#conn !== conn || this.#closed) return;
      const channel = message.channel;
      const record = this.#records.get(channel);
      if (record === undefined || record.topics.size === 0) return; // UNLISTENed meanwhile
      let envelope: EventEnvelope;
      let topic: string;
      try {
        envelope = decodeEnvelope(message.payload ?? "", this.#codec);
        topic = topicFor(envelope.type, envelope.id);
        if (channelFor(this.prefix, topic) !== channel) {
          throw new EnvelopeError(
            `Envelope for topic ${JSON.stringify(topic)} arrived on PostgreSQL channel ${JSON.stringify(channel)}`,
          );
        }
      } catch (thrown) {
        const reported = thrown instanceof PubSubError ? thrown : new EnvelopeError(
          `Cannot decode a notification on PostgreSQL channel ${JSON.stringify(channel)}`,
          { cause: thrown },
        );
        this.#report(reported, { operation: "message", channel });
        return;
      }
      // A topic sharing the channel through a hash collision, that no one here listens to: not ours.
      if (!record.topics.has(topic)) return;
      this.deliverRemote(new CustomEvent(topic, { detail: envelope }) as EnvelopeEvent);
    } catch (thrown) {
      // Never throw into the client's event emitter.
      console.error(`${LOG_PREFIX} Unexpected error while handling a notification:`, thrown);
    }
  }

  #setState(state: PostgresConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    const detail: PostgresStateChange = { state, previous };
    this.emit("state", detail);
  }
}

function isLive(record: ChannelRecord): boolean {
  return record.listening && record.op === null && record.error === undefined;
}

function noop(): void {}
