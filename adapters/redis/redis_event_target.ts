/**
 * `createRedisEventTarget`: the core event-target contract over Redis pub/sub
 * (or sharded pub/sub) through ioredis.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { type Codec, decodeEnvelope, jsonCodec, outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, PubSubClosedError, PubSubError } from "../../core/errors.ts";
import { topicFor } from "../../core/topic.ts";
import { errorReporter } from "../../core/error_reporter.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import {
  type AddListenerOptions,
  CLOSE_EVENT,
  type EnvelopeEvent,
  type EventEnvelope,
  isTopic,
  type SubscriptionReadiness,
  type TypedEvent,
  type TypedEventListenerOrEventListenerObject,
  type TypedEventTarget,
} from "../../core/types.ts";
import type { PositionedEvent } from "../../core/hub_history.ts";
import type { HistoryRecovery, StreamPosition } from "../../core/topic_history.ts";
import { RedisConnectionError, RedisPublishError, RedisSubscribeError } from "./errors.ts";
import { RedisStreams, type RedisStreamsOptions, type ScriptClient } from "./streams.ts";

/**
 * What the adapter uses of an ioredis client: an ioredis `Redis` or `Cluster`
 * (ioredis 5) fits it as is. Declared structurally so that the published types
 * do not depend on ioredis' own declarations.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import type { RedisClient } from "@alkdev/pubsub/redis";
 *
 * const client: RedisClient = new Redis({ lazyConnect: true });
 * client.disconnect();
 * ```
 */
export interface RedisClient extends ScriptClient {
  /** The connection status, `"ready"` when connected. */
  readonly status: string;
  /** `true` for an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  /** PUBLISH; resolves to the number of receiving subscriber connections. */
  publish(channel: string, message: string | Uint8Array): Promise<number>;
  /** SPUBLISH (Redis 7). */
  spublish(channel: string, message: string | Uint8Array): Promise<unknown>;
  /** SUBSCRIBE. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** UNSUBSCRIBE. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** SSUBSCRIBE (Redis 7). */
  ssubscribe(...channels: string[]): Promise<unknown>;
  /** SUNSUBSCRIBE (Redis 7). */
  sunsubscribe(...channels: string[]): Promise<unknown>;
  /** Adds an event listener (Node's `EventEmitter`). */
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes an event listener (Node's `EventEmitter`). */
  // deno-lint-ignore no-explicit-any
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  /**
   * A pipeline: commands queued on it are written together by `exec()`,
   * which resolves to one `[error, result]` pair per command. The adapter
   * sends the publishes of one tick this way (on a `Cluster` it does not).
   */
  pipeline?(): {
    publish(channel: string, message: string | Uint8Array): unknown;
    spublish(channel: string, message: string | Uint8Array): unknown;
    /** EVALSHA (streams mode). */
    evalsha?(sha: string, numKeys: number, ...args: (string | number | Uint8Array)[]): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
  /** A new client with the same options. */
  duplicate(): RedisClient;
  /** Closes the connection gracefully. */
  quit(): Promise<unknown>;
  /** Closes the connection at once. */
  disconnect(): void;
}

/**
 * The adapter's view of its subscribe connection:
 * - `"connecting"`: the subscribe client has not been ready yet;
 * - `"ready"`: connected, and every subscription is live;
 * - `"reconnecting"`: the connection was lost; ioredis is reconnecting and
 *   events published meanwhile are lost;
 * - `"resubscribing"`: connected again; the adapter is re-subscribing and
 *   verifying with a probe round trip (it moves to `"ready"` and dispatches
 *   `"resubscribed"` once that round trip succeeds);
 * - `"ended"`: ioredis stopped reconnecting (the client was quit or
 *   disconnected, or its `retryStrategy` gave up). The target is finished
 *   for good: it dispatches `"close"` and does not resume, even if the client
 *   is connected again (create a new target; `close()` still releases this one);
 * - `"closed"`: `close()` was called.
 *
 * @example
 * ```ts
 * import type { RedisConnectionState } from "@alkdev/pubsub/redis";
 *
 * const state: RedisConnectionState = "ready";
 * ```
 */
export type RedisConnectionState = "connecting" | "ready" | "reconnecting" | "resubscribing" | "ended" | "closed";

/**
 * Where an error reported through `onError` came from.
 *
 * @example
 * ```ts
 * import type { RedisErrorContext } from "@alkdev/pubsub/redis";
 *
 * const context: RedisErrorContext = { operation: "message", channel: "alk:events:ping:1" };
 * ```
 */
export interface RedisErrorContext {
  /**
   * `"message"`: an incoming message was not a valid envelope for its
   * channel; `"publish"`, `"subscribe"`, `"unsubscribe"`: a Redis command
   * failed; `"connection"`: the subscribe connection ended.
   */
  operation: "message" | "publish" | "subscribe" | "unsubscribe" | "connection";
  /** The Redis channel, when one is involved. */
  channel?: string;
}

/**
 * The `detail` of the `"state"` event a {@linkcode RedisEventTarget}
 * dispatches on every state change.
 *
 * @example
 * ```ts
 * import type { RedisStateChange } from "@alkdev/pubsub/redis";
 *
 * const change: RedisStateChange = { state: "reconnecting", previous: "ready" };
 * ```
 */
export interface RedisStateChange {
  /** The new state. */
  state: RedisConnectionState;
  /** The state before. */
  previous: RedisConnectionState;
}

/**
 * Options for {@linkcode createRedisEventTarget}.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import type { RedisEventTargetOptions } from "@alkdev/pubsub/redis";
 *
 * const publishClient = new Redis({ lazyConnect: true });
 * const options: RedisEventTargetOptions = { publishClient, prefix: "app:events:" };
 * publishClient.disconnect();
 * ```
 */
export interface RedisEventTargetOptions {
  /** The client that sends PUBLISH (or SPUBLISH). It may be shared with other commands. */
  publishClient: RedisClient;
  /**
   * The client that SUBSCRIBEs (or SSUBSCRIBEs). It enters subscriber mode,
   * so it must not be used for other commands, and must not be the publish
   * client. It may be shared with other adapters. For sharded pub/sub on a
   * `Cluster`, create it with `shardedSubscribers: true`.
   *
   * @default {publishClient.duplicate()}, which `close()` then quits
   */
  subscribeClient?: RedisClient;
  /**
   * Put before every topic to make the Redis channel name. Targets with
   * different prefixes never see each other's events.
   *
   * @default {"alk:events:"}
   */
  prefix?: string;
  /**
   * Encodes envelopes for the wire. With the default JSON codec, messages are
   * read as strings; with any other codec, `decode` receives the message's
   * bytes (a `Uint8Array`), and `encode` may return a string or bytes.
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * Use sharded pub/sub (SSUBSCRIBE, SPUBLISH, SUNSUBSCRIBE; Redis 7 or later),
   * which scales with a Redis Cluster: each channel lives on one shard.
   *
   * @default {false}
   */
  sharded?: boolean;
  /**
   * Streams mode: every publish is numbered and kept in a Redis Stream per
   * topic (one Lua script: `XADD … MAXLEN ~`, `XTRIM … MINID ~`, then
   * `PUBLISH` with the position), and the target gets `history(topic, since)`.
   * A hub with `history` over such a target keeps no history of its own:
   * several hub processes agree on every offset, and a spoke that fails over
   * recovers from any of them. Not with `sharded` or a `Cluster`. See
   * docs/architecture/redis.md#streams-mode for the costs.
   *
   * @default {undefined: plain pub/sub, no history}
   */
  streams?: RedisStreamsOptions;
  /**
   * Receives what goes wrong without being anyone's fault in this process:
   * invalid incoming messages (`EnvelopeError`), failed PUBLISH commands of
   * `dispatchEvent` ({@linkcode RedisPublishError}), failed SUBSCRIBE or
   * UNSUBSCRIBE commands ({@linkcode RedisSubscribeError}) and the end of the
   * subscribe connection ({@linkcode RedisConnectionError}). Never throws into
   * ioredis: if `onError` throws, that is logged with `console.error`.
   *
   * @default {console.error with a "[@alkdev/pubsub/redis]" prefix}
   */
  onError?: (error: PubSubError, context: RedisErrorContext) => void;
  /**
   * Called after each successful PUBLISH with Redis' count of receiving
   * subscriber connections (for SPUBLISH: on the channel's shard). A count of
   * 0 means the event reached no one and is gone.
   */
  onPublished?: (receivers: number, envelope: EventEnvelope) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
  /**
   * The most events held while the publish connection is not ready. They are
   * sent in order once it is (ioredis would let new commands overtake its own
   * offline queue while reconnecting); beyond this, publishes fail with
   * {@linkcode RedisPublishError}. `close()` drops what is still held.
   *
   * @default {10000}
   */
  maxQueued?: number;
  /**
   * After a reconnection, how long to wait for the probe message before
   * publishing another one, in ms.
   *
   * @default {1000}
   */
  probeInterval?: number;
}

/**
 * An event target over Redis pub/sub. Besides the event-target contract and
 * `ready(topic)`, it exposes the connection state, PUBLISH's receiver count
 * and `close()`.
 *
 * Non-topic event names (without `:`) are local only and never reach Redis;
 * the target dispatches three of them itself:
 * - `"state"`, a `CustomEvent` whose `detail` is a {@linkcode RedisStateChange},
 *   on every change of {@linkcode RedisEventTarget.state};
 * - `"resubscribed"`, a `CustomEvent` whose `detail` is `{ channels: number }`,
 *   after a reconnection once every subscription is live again, verified by a
 *   probe message's round trip;
 * - `"close"` (no `detail`), at most once, when the target is finished for
 *   good: on `close()`, or when the subscribe client ends (state `"ended"`),
 *   whichever comes first; never for a reconnection. A pub/sub created over
 *   the target ends its subscriptions then (see `CLOSE_EVENT`).
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { createRedisEventTarget, type RedisEventTarget } from "@alkdev/pubsub/redis";
 *
 * const client = new Redis({ lazyConnect: true });
 * const target: RedisEventTarget = createRedisEventTarget({ publishClient: client });
 * console.log(target.state);
 * await target.close();
 * client.disconnect();
 * ```
 */
export interface RedisEventTarget extends TypedEventTarget<EnvelopeEvent>, SubscriptionReadiness {
  /** The connection state; changes are dispatched as `"state"` events. */
  readonly state: RedisConnectionState;
  /** The channel prefix. */
  readonly prefix: string;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
  /** Returns the Redis channel for a topic: the prefix followed by the topic. */
  channelFor(topic: string): string;
  /**
   * Publishes an envelope and resolves to Redis' count of receiving
   * subscriber connections (0: nobody received it). `dispatchEvent` does the
   * same without waiting.
   *
   * @throws {EnvelopeError} At once, if `envelope` is not an envelope.
   * @throws {PubSubClosedError} At once, after `close()`.
   */
  publish(envelope: EventEnvelope): Promise<number>;
  /**
   * Settles when the subscription for `topic` is live: at once if the target
   * holds no listener for it; otherwise after the SUBSCRIBE round trip (and,
   * after a reconnection, after the re-SUBSCRIBE). Rejects with
   * {@linkcode RedisSubscribeError} if the SUBSCRIBE failed, with
   * {@linkcode RedisConnectionError} if the connection ended, and with
   * `PubSubClosedError` on `close()`.
   */
  ready(topic: string): Promise<void>;
  /**
   * In streams mode only (`undefined` otherwise): what a reader at `since`
   * missed of `topic`, read from its stream (without `since`: the current
   * position). Events older than `streams.ttl`, or beyond `streams.maxLen`,
   * count as missed.
   */
  readonly history?: (topic: string, since: StreamPosition | undefined) => Promise<HistoryRecovery<EventEnvelope>>;
  /** Counts local listeners: for one event name (topic), or all of them. */
  listenerCount(type?: string): number;
  /**
   * Removes the adapter's listeners from both clients, unsubscribes its
   * channels (waiting for Redis if the connection is up), rejects waiting
   * `ready()` calls, dispatches `"close"` (unless the target already did, on
   * ending) and drops local listeners. Quits only the subscribe client it
   * created itself. Idempotent.
   */
  close(): Promise<void>;
}

/** A publish waiting to be written. */
interface Pending {
  channel: string;
  message: string | Uint8Array;
  resolve: (n: number) => void;
  reject: (e: unknown) => void;
}

interface ChannelRecord {
  channel: string;
  topic: string;
  /** Some local listener wants this channel. */
  wanted: boolean;
  /** Redis has (as far as we know) acknowledged the subscription. */
  subscribed: boolean;
  /** The subscription must be re-sent (after a reconnection). */
  stale: boolean;
  /** The last SUBSCRIBE failed; retried on the next reconnection or the next first listener. */
  failed: boolean;
  /** Why the last SUBSCRIBE failed. */
  error: RedisSubscribeError | undefined;
  /** The running command loop for this channel, if any. */
  op: Promise<void> | null;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

const DEFAULT_PREFIX = "alk:events:";
const LOG_PREFIX = "[@alkdev/pubsub/redis]";

/**
 * Creates an event target over Redis pub/sub.
 *
 * - Wire format: each event is the whole envelope `{ type, id, payload }`
 *   encoded by `codec` (JSON by default), on the channel `prefix + topic`.
 * - SUBSCRIBE is sent when the first local listener for a topic is added and
 *   UNSUBSCRIBE when the last one is removed; the commands for one channel
 *   are serialized, so overlapping adds and removes are safe. `ready(topic)`
 *   tells when a subscription is live.
 * - A publish reaches the publisher's own local listeners through Redis (once),
 *   not by a local shortcut.
 * - Delivery is at most once: events published while a subscription is not
 *   live (before `ready`, during a reconnection) are lost. `publish()` and
 *   `onPublished` expose PUBLISH's receiver count.
 * - Invalid incoming messages are reported through `onError` and dropped.
 *
 * @param options The clients and settings.
 * @returns The event target.
 * @throws {TypeError} If the two clients are the same object, or for sharded
 * mode on a `Cluster` without `shardedSubscribers: true`.
 *
 * @example Two processes (here: two targets) connected through Redis
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createRedisEventTarget } from "@alkdev/pubsub/redis";
 *
 * const publishClient = new Redis("redis://127.0.0.1:6379");
 * const subscribeClient = new Redis("redis://127.0.0.1:6379");
 * const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
 * const pubsub = createPubSub<{ "job.progress": number }>({ eventTarget });
 *
 * const progress = pubsub.subscribe("job.progress", "job-1");
 * await pubsub.ready("job.progress", "job-1"); // SUBSCRIBE acknowledged
 * pubsub.publish("job.progress", "job-1", 50);
 * console.log((await progress.next()).value); // 50
 *
 * pubsub.close();
 * await eventTarget.close();
 * await Promise.all([publishClient.quit(), subscribeClient.quit()]);
 * ```
 */
export function createRedisEventTarget(options: RedisEventTargetOptions): RedisEventTarget {
  return new RedisEventTargetImpl(options);
}

class RedisEventTargetImpl extends TransportEventTarget implements RedisEventTarget {
  readonly prefix: string;
  #pub: RedisClient;
  #sub: RedisClient;
  #ownsSub: boolean;
  #codec: Codec;
  #sharded: boolean;
  #report: (error: PubSubError, context: RedisErrorContext) => void;
  #onPublished: ((receivers: number, envelope: EventEnvelope) => void) | undefined;
  #probeInterval: number;
  #maxQueued: number;
  #outbox: Pending[] = [];
  /** Publishes of the current tick, written as one pipeline by `#flushBatch` in a microtask. */
  #batch: Pending[] | undefined;
  /** Whether the publish client can pipeline (a standalone client with `pipeline()`). */
  #canPipeline: boolean;
  // deno-lint-ignore no-explicit-any
  #pubListeners: [string, (...args: any[]) => void][];
  #channels = new Map<string, ChannelRecord>();
  /** Command loops waiting for the subscribe client to leave the "connect" status. */
  #statusWaiters: (() => void)[] = [];
  #state: RedisConnectionState;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Bumped on every connection loss and on close; stale resubscribe runs stop when it changes. */
  #generation = 0;
  #probeChannel: string;
  #probeSeq = 0;
  #probeWaiter: { token: string; resolve: (arrived: boolean) => void } | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #messageEvent: "message" | "messageBuffer" | "smessage" | "smessageBuffer";
  // deno-lint-ignore no-explicit-any
  #clientListeners: [string, (...args: any[]) => void][];
  #onPublishFailure: (channel: string) => (error: unknown) => void;
  #streams: RedisStreams | undefined;
  readonly history?: (topic: string, since: StreamPosition | undefined) => Promise<HistoryRecovery<EventEnvelope>>;

  constructor(options: RedisEventTargetOptions) {
    super(options);
    const { publishClient } = options;
    if (publishClient === options.subscribeClient) {
      throw new TypeError(
        "Cannot create a Redis event target: the subscribe client must be a separate connection from the publish client",
      );
    }
    this.#sharded = options.sharded === true;
    this.#pub = publishClient;
    this.#canPipeline = typeof publishClient.pipeline === "function" && publishClient.isCluster !== true;
    this.#ownsSub = options.subscribeClient === undefined;
    this.#sub = options.subscribeClient ?? publishClient.duplicate();
    if (this.#sharded && shardedSubscribersOff(this.#sub)) {
      if (this.#ownsSub) this.#sub.disconnect();
      throw new TypeError(
        "Cannot create a sharded Redis event target on a Cluster: create the subscribe client with shardedSubscribers: true",
      );
    }
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    if (typeof this.prefix !== "string") {
      throw new TypeError(`Cannot create a Redis event target: the prefix must be a string, got ${typeof this.prefix}`);
    }
    this.#codec = options.codec ?? jsonCodec;
    if (options.streams !== undefined) {
      if (this.#sharded || publishClient.isCluster === true) {
        if (this.#ownsSub) this.#sub.disconnect();
        throw new TypeError(
          "Cannot create a Redis event target: streams mode needs one Redis, not sharded pub/sub or a Cluster",
        );
      }
      const streams = new RedisStreams(publishClient, this.prefix, this.#codec, options.streams);
      this.#streams = streams;
      this.history = (topic, since) => streams.history(topic, since);
    }
    this.#report = errorReporter(options.onError, LOG_PREFIX, "channel");
    this.#onPublished = options.onPublished;
    this.#probeInterval = options.probeInterval ?? 1000;
    this.#maxQueued = options.maxQueued ?? 10_000;
    if (!Number.isInteger(this.#maxQueued) || this.#maxQueued < 0) {
      throw new RangeError(
        `Cannot create a Redis event target: maxQueued must be a non-negative integer, got ${this.#maxQueued}`,
      );
    }
    // A topic never starts with ":" (its type is non-empty), so this channel is never a topic's.
    this.#probeChannel = `${this.prefix}:probe:${crypto.randomUUID()}`;
    this.#state = this.#sub.status === "ready" ? "ready" : "connecting";

    const binary = this.#codec !== jsonCodec;
    this.#messageEvent = this.#sharded
      ? (binary ? "smessageBuffer" : "smessage")
      : (binary ? "messageBuffer" : "message");
    this.#onPublishFailure = (channel) => (error) =>
      this.#report(new RedisPublishError(channel, error), { operation: "publish", channel });

    const onMessage = (channel: string | Uint8Array, data: string | Uint8Array): void => this.#onMessage(channel, data);
    const onReady = (): void => this.#onReady();
    const onClose = (): void => this.#onClose();
    const onEnd = (): void => this.#onEnd();
    this.#clientListeners = [
      [this.#messageEvent, onMessage],
      ["ready", onReady],
      ["close", onClose],
      ["reconnecting", onClose],
      ["end", onEnd],
    ];
    for (const [event, listener] of this.#clientListeners) this.#sub.on(event, listener);
    this.#pubListeners = [["ready", () => this.#flushOutbox()], [
      "end",
      () => this.#dropOutbox(new Error("Connection is closed.")),
    ]];
    for (const [event, listener] of this.#pubListeners) this.#pub.on(event, listener);
  }

  get state(): RedisConnectionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  channelFor(topic: string): string {
    return this.prefix + topic;
  }

  override addEventListener(
    type: string,
    listener: TypedEventListenerOrEventListenerObject<EnvelopeEvent> | null,
    options?: boolean | AddListenerOptions,
  ): void {
    // Late "close" listeners still hear it; nothing else is added once closed.
    if (this.#closed && type !== CLOSE_EVENT) return;
    super.addEventListener(type, listener, options);
  }

  /** Subscribes a topic's channel on its first listener and unsubscribes it after its last (core tracks both). */
  protected override onTopicInterest(topic: string): void {
    this.#syncTopic(topic);
  }

  dispatchEvent(event: EnvelopeEvent): boolean {
    if (this.#closed) {
      throw new PubSubClosedError(`Cannot publish to ${JSON.stringify(event.type)}: the target is closed`);
    }
    const topic = event.type;
    if (!isTopic(topic)) return this.dispatchLocal(event);
    const envelope = outgoingEnvelope(event.detail, topic);
    const channel = this.prefix + topic;
    const onPublished = this.#onPublished;
    this.#send(channel, envelope).then(
      onPublished === undefined ? undefined : (receivers) => this.#published(onPublished, receivers, envelope),
      this.#onPublishFailure(channel),
    );
    return true;
  }

  publish(envelope: EventEnvelope): Promise<number> {
    if (this.#closed) {
      throw new PubSubClosedError(`Cannot publish ${JSON.stringify(envelope?.type)}: the target is closed`);
    }
    const valid = outgoingEnvelope(envelope, undefined);
    const channel = this.prefix + topicFor(valid.type, valid.id);
    const onPublished = this.#onPublished;
    return this.#send(channel, valid).then(
      (receivers) => {
        if (onPublished !== undefined) this.#published(onPublished, receivers, valid);
        return receivers;
      },
      (error) => {
        throw new RedisPublishError(channel, error);
      },
    );
  }

  ready(topic: string): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new PubSubClosedError("Cannot wait for a subscription: the target is closed"));
    }
    const record = this.#channels.get(this.prefix + topic);
    if (record === undefined || !record.wanted || isLive(record)) return Promise.resolve();
    if (record.failed && record.op === null) return Promise.reject(record.error);
    return new Promise((resolve, reject) => record.waiters.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const closedError = new PubSubClosedError("The Redis event target was closed");
    this.#closed = true;
    this.#generation++;
    for (const [event, listener] of this.#clientListeners) this.#sub.removeListener(event, listener);
    for (const [event, listener] of this.#pubListeners) this.#pub.removeListener(event, listener);
    this.#wakeStatusWaiters();
    this.#dropOutbox(closedError);
    this.#stopProbe();
    const channels: string[] = [];
    for (const record of this.#channels.values()) {
      if (record.subscribed || record.op !== null) channels.push(record.channel);
      record.wanted = false;
      this.#rejectWaiters(record, closedError);
    }
    this.#channels.clear();
    this.#setState("closed");
    this.emitClose();
    this.dropListeners();
    this.#closing = this.#release(channels);
    return this.#closing;
  }

  async #release(channels: string[]): Promise<void> {
    if (this.#ownsSub) {
      // Quitting drops every subscription of the connection.
      if (this.#sub.status === "ready") await this.#sub.quit().catch(() => {});
      else this.#sub.disconnect();
      return;
    }
    if (channels.length === 0) return;
    const done = this.#sharded
      ? Promise.all(channels.map((channel) => this.#sub.sunsubscribe(channel)))
      : this.#sub.unsubscribe(...channels);
    const settled = done.then(() => {}, () => {});
    // Waiting on a connection that is down could take forever; the UNSUBSCRIBE then goes out on reconnect.
    if (this.#sub.status === "ready") await settled;
  }

  #send(channel: string, envelope: EventEnvelope): Promise<number> {
    const encoded = this.#codec.encode(envelope);
    const message = typeof encoded === "string"
      ? encoded
      : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    const status = this.#pub.status;
    if (status === "ready" && this.#outbox.length === 0 && this.#canPipeline) {
      // The publishes of one tick go out as one pipeline: one write, in order, each with its own result.
      let batch = this.#batch;
      if (batch === undefined) {
        batch = this.#batch = [];
        queueMicrotask(this.#flushBatch);
      }
      return new Promise((resolve, reject) => batch.push({ channel, message, resolve, reject }));
    }
    // "wait" (lazy, not connected yet) and "end" go straight to ioredis: the first connects, the second fails fast.
    if (this.#outbox.length === 0 && (status === "ready" || status === "wait" || status === "end")) {
      return this.#rawPublish(channel, message);
    }
    if (this.#outbox.length >= this.#maxQueued) {
      return Promise.reject(
        new Error(`The publish connection is not ready and ${this.#maxQueued} events are already queued`),
      );
    }
    return new Promise((resolve, reject) => this.#outbox.push({ channel, message, resolve, reject }));
  }

  #rawPublish(channel: string, message: string | Uint8Array): Promise<number> {
    const streams = this.#streams;
    if (streams !== undefined) return streams.publish(channel.slice(this.prefix.length), channel, message);
    return (this.#sharded ? this.#pub.spublish(channel, message) : this.#pub.publish(channel, message)) as Promise<
      number
    >;
  }

  #flushBatch = (): void => {
    const batch = this.#batch!;
    this.#batch = undefined;
    if (batch.length === 1) {
      const item = batch[0];
      this.#rawPublish(item.channel, item.message).then(item.resolve, item.reject);
      return;
    }
    const pipeline = this.#pub.pipeline!();
    const streams = this.#streams;
    if (streams !== undefined) {
      if (!streams.loaded || typeof pipeline.evalsha !== "function") {
        // Until the script is known to be loaded, one at a time in order (the first one loads it).
        let chain = Promise.resolve();
        for (const item of batch) {
          chain = chain.then(() => this.#rawPublish(item.channel, item.message).then(item.resolve, item.reject));
        }
        return;
      }
      for (const item of batch) {
        pipeline.evalsha(...streams.command(item.channel.slice(this.prefix.length), item.channel, item.message));
      }
    } else if (this.#sharded) { for (const item of batch) pipeline.spublish(item.channel, item.message); }
    else for (const item of batch) pipeline.publish(item.channel, item.message);
    pipeline.exec().then((results) => {
      let retry: Promise<void> | undefined;
      for (let i = 0; i < batch.length; i++) {
        const result = results?.[i];
        const item = batch[i];
        if (result === undefined) item.reject(new Error("The pipeline returned no result for this PUBLISH"));
        else if (streams !== undefined && String(result[0]?.message).startsWith("NOSCRIPT")) {
          // Redis lost the script (a restart, SCRIPT FLUSH): these go again one at a time, in order, loading it.
          streams.loaded = false;
          retry = (retry ?? Promise.resolve()).then(() =>
            this.#rawPublish(item.channel, item.message).then(item.resolve, item.reject)
          );
        } else if (result[0] !== null) item.reject(result[0]);
        else item.resolve(result[1] as number);
      }
    }, (error) => {
      for (const item of batch) item.reject(error);
    });
  };

  #flushOutbox(): void {
    if (this.#pub.status !== "ready") return;
    for (const item of this.#outbox.splice(0)) {
      this.#rawPublish(item.channel, item.message).then(item.resolve, item.reject);
    }
  }

  #dropOutbox(error: unknown): void {
    for (const item of this.#outbox.splice(0)) item.reject(error);
  }

  #published(
    onPublished: (receivers: number, envelope: EventEnvelope) => void,
    receivers: number,
    envelope: EventEnvelope,
  ): void {
    try {
      onPublished(receivers, envelope);
    } catch (error) {
      console.error(`${LOG_PREFIX} onPublished threw:`, error);
    }
  }

  #onMessage(rawChannel: string | Uint8Array, data: string | Uint8Array): void {
    try {
      const channel = typeof rawChannel === "string" ? rawChannel : rawChannel.toString();
      if (channel === this.#probeChannel) {
        const waiter = this.#probeWaiter;
        if (waiter !== undefined && String(data) === waiter.token) waiter.resolve(true);
        return;
      }
      const record = this.#channels.get(channel);
      // Not ours (a shared subscribe client), or no local listener any more.
      if (record === undefined || !record.wanted) return;
      const topic = record.topic;
      let envelope: EventEnvelope;
      let position: StreamPosition | undefined;
      try {
        if (this.#streams !== undefined) {
          const live = this.#streams.parseLive(data);
          if (live === undefined) {
            throw new EnvelopeError("Expected a positioned message (<epoch> <offset> <envelope>)");
          }
          position = live.position;
          data = live.data;
        }
        envelope = decodeEnvelope(data, this.#codec, topic);
      } catch (error) {
        const reported = error instanceof PubSubError
          ? error
          : new EnvelopeError(`Cannot decode a message on Redis channel ${JSON.stringify(channel)}`, { cause: error });
        this.#report(reported, { operation: "message", channel });
        return;
      }
      // Paced: a socket chunk can hold thousands of messages; consumers that keep up get turns between slices.
      const event = new CustomEvent(topic, { detail: envelope }) as PositionedEvent;
      if (position !== undefined) event.position = position;
      this.deliverRemote(event);
    } catch (error) {
      // Never throw into ioredis' callback: that would be an uncaught exception.
      console.error(`${LOG_PREFIX} Unexpected error while handling a message:`, error);
    }
  }

  #syncTopic(topic: string): void {
    if (this.#closed) return;
    const channel = this.prefix + topic;
    const wanted = this.listenerCount(topic) > 0;
    let record = this.#channels.get(channel);
    if (record === undefined) {
      if (!wanted) return;
      record = {
        channel,
        topic,
        wanted,
        subscribed: false,
        stale: false,
        failed: false,
        error: undefined,
        op: null,
        waiters: [],
      };
      this.#channels.set(channel, record);
    } else {
      if (wanted && !record.wanted) record.failed = false; // a new first listener retries a failed SUBSCRIBE
      record.wanted = wanted;
    }
    this.#sync(record);
  }

  #sync(record: ChannelRecord): void {
    if (record.op !== null) return; // the running loop re-checks when its command settles
    record.op = this.#run(record);
  }

  async #run(record: ChannelRecord): Promise<void> {
    while (!this.#closed) {
      let operation: "subscribe" | "unsubscribe";
      if (record.wanted && !record.failed && (!record.subscribed || record.stale)) operation = "subscribe";
      else if (!record.wanted && record.subscribed) operation = "unsubscribe";
      else break;
      if (this.#sub.status === "connect") {
        // Connected but not ready: ioredis would write SUBSCRIBE at once (it may run during the handshake), which
        // puts the connection in subscriber mode and fails ioredis' own ready check; the subscription is then lost
        // while its promise has resolved. Wait for "ready" (or the connection's end) and decide again.
        await new Promise<void>((resolve) => this.#statusWaiters.push(resolve));
        continue;
      }
      if (operation === "subscribe") record.stale = false;
      try {
        if (operation === "subscribe") {
          await (this.#sharded ? this.#sub.ssubscribe(record.channel) : this.#sub.subscribe(record.channel));
        } else {
          await (this.#sharded ? this.#sub.sunsubscribe(record.channel) : this.#sub.unsubscribe(record.channel));
        }
        record.subscribed = operation === "subscribe";
      } catch (error) {
        if (this.#closed) break;
        const reported = new RedisSubscribeError(operation, record.channel, error);
        this.#report(reported, { operation, channel: record.channel });
        // A failed UNSUBSCRIBE means the connection is gone, and its subscriptions with it.
        record.subscribed = false;
        if (operation === "subscribe") {
          record.failed = true;
          record.error = reported;
          this.#rejectWaiters(record, reported);
        }
      }
    }
    record.op = null;
    if (this.#closed) return;
    if (!record.wanted && !record.subscribed) {
      if (this.#channels.get(record.channel) === record) this.#channels.delete(record.channel);
      for (const waiter of record.waiters.splice(0)) waiter.resolve();
    } else if (isLive(record)) {
      for (const waiter of record.waiters.splice(0)) waiter.resolve();
    }
  }

  #wakeStatusWaiters(): void {
    const waiters = this.#statusWaiters;
    this.#statusWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #onReady(): void {
    this.#wakeStatusWaiters();
    if (this.#closed || this.closeEmitted) return;
    if (this.#state === "connecting") {
      this.#setState("ready");
      return;
    }
    if (this.#state === "reconnecting") void this.#resubscribe();
  }

  #onClose(): void {
    this.#wakeStatusWaiters();
    if (this.#closed || this.closeEmitted) return;
    this.#generation++;
    this.#stopProbe();
    for (const record of this.#channels.values()) if (record.subscribed) record.stale = true;
    if (this.#state !== "connecting" && this.#state !== "ended") this.#setState("reconnecting");
  }

  #onEnd(): void {
    this.#wakeStatusWaiters();
    if (this.#closed || this.closeEmitted) return;
    this.#onClose();
    this.#setState("ended");
    const error = new RedisConnectionError("The subscribe client's connection ended; subscriptions are not live");
    for (const record of this.#channels.values()) {
      // The connection took its subscriptions with it: removing a listener now needs no UNSUBSCRIBE.
      record.subscribed = false;
      this.#rejectWaiters(record, error);
    }
    this.#report(error, { operation: "connection" });
    this.emitClose();
  }

  async #resubscribe(): Promise<void> {
    const generation = ++this.#generation;
    this.#setState("resubscribing");
    // ioredis re-subscribes by itself, but emits "ready" before doing so (and not at all with
    // autoResubscribe off). Re-SUBSCRIBE every channel and wait for Redis' acknowledgements.
    for (const record of this.#channels.values()) {
      if (record.wanted) {
        record.stale = true;
        record.failed = false;
      }
      this.#sync(record);
    }
    await Promise.all([...this.#channels.values()].map((record) => record.op));
    if (generation !== this.#generation) return;
    // Then prove the whole path with a round trip: a probe published through the publish client.
    if (!(await this.#probe(generation)) || generation !== this.#generation) return;
    this.#setState("ready");
    this.emit("resubscribed", { channels: this.#channels.size });
    for (const record of this.#channels.values()) {
      if (isLive(record)) { for (const waiter of record.waiters.splice(0)) waiter.resolve(); }
    }
  }

  async #probe(generation: number): Promise<boolean> {
    const channel = this.#probeChannel;
    try {
      await (this.#sharded ? this.#sub.ssubscribe(channel) : this.#sub.subscribe(channel));
    } catch {
      return false; // the connection dropped again; the next "ready" starts over
    }
    try {
      while (generation === this.#generation) {
        const token = String(++this.#probeSeq);
        const arrived = new Promise<boolean>((resolve) => {
          this.#probeWaiter = { token, resolve };
          this.#probeTimer = setTimeout(() => resolve(false), this.#probeInterval);
        });
        const message = this.#sharded ? this.#pub.spublish(channel, token) : this.#pub.publish(channel, token);
        (message as Promise<unknown>).catch(() => {}); // a lost probe is retried
        const ok = await arrived;
        clearTimeout(this.#probeTimer);
        this.#probeTimer = undefined;
        this.#probeWaiter = undefined;
        if (ok) return true;
      }
      return false;
    } finally {
      const done = this.#sharded ? this.#sub.sunsubscribe(channel) : this.#sub.unsubscribe(channel);
      (done as Promise<unknown>).catch(() => {});
    }
  }

  #stopProbe(): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#probeWaiter?.resolve(false);
    this.#probeWaiter = undefined;
  }

  #setState(state: RedisConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    const detail: RedisStateChange = { state, previous };
    this.emit("state", detail);
  }

  #rejectWaiters(record: ChannelRecord, error: unknown): void {
    for (const waiter of record.waiters.splice(0)) waiter.reject(error);
  }
}

function isLive(record: ChannelRecord): boolean {
  return record.subscribed && !record.stale && !record.failed && record.op === null;
}

function shardedSubscribersOff(client: RedisClient): boolean {
  const options = (client as { options?: { shardedSubscribers?: boolean } }).options;
  return client.isCluster === true && options?.shardedSubscribers !== true;
}
