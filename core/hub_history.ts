/**
 * `HubHistory`: a hub's recovery machinery, used by {@linkcode HubRouter}
 * when the hub has the `history` option. It numbers every publication where
 * it enters the topic's {@linkcode TopicHistory} (so every subscriber of a
 * topic sees the same offsets), encodes the positioned frame once per event
 * for every connection that asked for positions, and replays what a
 * resubscribing connection missed, in slices, before its live frames.
 *
 * @module
 */

import type { HubPeer } from "./hub_router.ts";
import { type StreamPosition, TopicHistory, type TopicHistoryOptions } from "./topic_history.ts";
import type { EventEnvelope } from "./types.ts";

/**
 * The hub's `history` option: the bounds of its per-topic history (see
 * {@linkcode TopicHistoryOptions} for each default).
 *
 * @example
 * ```ts
 * import type { HubHistoryOptions } from "@alkdev/pubsub";
 *
 * const history: HubHistoryOptions = { size: 1000, ttl: 300_000, maxTotalBytes: 256 << 20 };
 * ```
 */
export type HubHistoryOptions = TopicHistoryOptions;

/**
 * What the hub tells a connection that asked for positions when its
 * subscription goes live: the stream's epoch, the offset its next frames for
 * the topic follow (replayed ones first, then live ones), and, when the
 * subscription asked to recover from a position the hub could not fully
 * replay, how many events were lost (`null`: an unknown number).
 *
 * @example
 * ```ts
 * import type { SubscribedInfo } from "@alkdev/pubsub";
 *
 * const info: SubscribedInfo = { epoch: "9f2c41a07be3", offset: 41, missed: 3 };
 * ```
 */
export interface SubscribedInfo {
  /** The topic's stream epoch. */
  epoch: string;
  /** The offset the following frames start after. */
  offset: number;
  /** Absent: nothing lost. A number: that many events lost. `null`: an unknown number lost. */
  missed?: number | null;
}

/**
 * Encodes an envelope with its stream position (a data frame for a
 * connection that asked for positions).
 *
 * @typeParam F The encoded frame type.
 *
 * @example
 * ```ts
 * import type { EncodeAt } from "@alkdev/pubsub";
 *
 * const encodeAt: EncodeAt<string> = (envelope, { epoch, offset }) => JSON.stringify({ ...envelope, offset, epoch });
 * ```
 */
export type EncodeAt<F> = (envelope: EventEnvelope, position: StreamPosition) => F;

/** Replayed frames sent per event-loop turn, so a long replay does not stall other connections. */
const REPLAY_SLICE = 256;

interface Replay<F> {
  frames: F[];
  head: number;
}

/**
 * The history, positioned encoding and replay of one hub. Created by
 * {@linkcode HubRouter} from its `history` option.
 *
 * @typeParam F The encoded frame type.
 *
 * @example
 * ```ts
 * import { HubHistory } from "@alkdev/pubsub";
 *
 * const history = new HubHistory<string>({ size: 10 }, (e, p) => JSON.stringify({ ...e, ...p }), () => {});
 * const position = history.record("ping:1", { type: "ping", id: "1", payload: 1 }, 40);
 * console.log(position.offset); // 1
 * history.close();
 * ```
 */
export class HubHistory<F> {
  /** The per-topic store. */
  readonly store: TopicHistory<EventEnvelope>;
  #encodeAt: EncodeAt<F>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #replays = new Map<HubPeer<F>, Map<string, Replay<F>>>();
  #pump: ReturnType<typeof setTimeout> | undefined;
  #busy: (topic: string) => boolean;

  /**
   * Creates an empty history.
   *
   * @param options The bounds.
   * @param encodeAt Encodes a positioned frame.
   * @param onDrop Called with each topic whose stream is dropped (the router then stops listening for it if no one wants it).
   * @param busy Whether a topic is still subscribed (its idle stream is kept).
   */
  constructor(
    options: HubHistoryOptions,
    encodeAt: EncodeAt<F>,
    onDrop: (topic: string) => void,
    busy: (topic: string) => boolean = () => false,
  ) {
    this.store = new TopicHistory<EventEnvelope>(options);
    this.store.onDrop = onDrop;
    this.#encodeAt = encodeAt;
    this.#busy = busy;
  }

  /**
   * Numbers a publication and keeps it.
   *
   * @param topic The topic.
   * @param envelope The envelope.
   * @param bytes Its encoded size.
   * @returns Its position.
   */
  record(topic: string, envelope: EventEnvelope, bytes: number): StreamPosition {
    this.#sweepLater();
    return this.store.append(topic, envelope, bytes);
  }

  /**
   * Encodes a positioned frame.
   *
   * @param envelope The envelope.
   * @param position Its position.
   * @returns The frame.
   */
  frameAt(envelope: EventEnvelope, position: StreamPosition): F {
    return this.#encodeAt(envelope, position);
  }

  /**
   * Makes `peer`'s subscription to `topic` live: answers it with the
   * position (and the loss, if `since` could not be fully recovered), then
   * replays the retained events after the position, in slices; live frames
   * for the topic wait behind the replay.
   *
   * @param peer The connection.
   * @param topic The topic.
   * @param since The position the connection asked to recover from.
   */
  join(peer: HubPeer<F>, topic: string, since: StreamPosition | undefined): void {
    this.#sweepLater();
    const recovery = this.store.since(topic, since);
    const info: SubscribedInfo = { epoch: recovery.epoch, offset: recovery.from };
    if (recovery.missed !== undefined) info.missed = recovery.missed;
    peer.subscribed(topic, info);
    if (recovery.entries.length === 0) return;
    const frames: F[] = [];
    for (const { offset, value } of recovery.entries) {
      frames.push(this.#encodeAt(value, { epoch: recovery.epoch, offset }));
    }
    let replays = this.#replays.get(peer);
    if (replays === undefined) this.#replays.set(peer, replays = new Map());
    replays.set(topic, { frames, head: 0 });
    if (this.#pump === undefined) this.#pumpNow();
  }

  /**
   * Sends a live frame, behind any replay still running for the topic.
   *
   * @param peer The connection.
   * @param topic The topic.
   * @param frame The frame.
   */
  deliver(peer: HubPeer<F>, topic: string, frame: F): void {
    const replay = this.#replays.size === 0 ? undefined : this.#replays.get(peer)?.get(topic);
    if (replay === undefined) peer.sendData(frame);
    else replay.frames.push(frame);
  }

  /**
   * Drops a replay (the connection unsubscribed, or left).
   *
   * @param peer The connection.
   * @param topic The topic; every topic of the connection without it.
   */
  leave(peer: HubPeer<F>, topic?: string): void {
    const replays = this.#replays.get(peer);
    if (replays === undefined) return;
    if (topic === undefined) replays.clear();
    else replays.delete(topic);
    if (replays.size === 0) this.#replays.delete(peer);
  }

  /** Stops the timers and drops the history and every replay. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#pump !== undefined) clearTimeout(this.#pump);
    this.#timer = this.#pump = undefined;
    this.#replays.clear();
    this.store.clear();
  }

  /** Sends one slice of every running replay; schedules the next turn while any is left. */
  #pumpNow = (): void => {
    this.#pump = undefined;
    for (const [peer, replays] of this.#replays) {
      for (const [topic, replay] of replays) {
        const end = Math.min(replay.frames.length, replay.head + REPLAY_SLICE);
        while (replay.head < end && this.#replays.get(peer)?.get(topic) === replay) {
          const frame = replay.frames[replay.head];
          replay.frames[replay.head++] = undefined as F;
          peer.sendData(frame);
        }
        if (replay.head === replay.frames.length) this.leave(peer, topic);
      }
    }
    if (this.#replays.size > 0) this.#pump = setTimeout(this.#pumpNow, 0);
  };

  /** Sweeps idle streams every `ttl` (at most every 10 s) while the store holds any. */
  #sweepLater(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.store.sweep(Date.now(), this.#busy);
      if (this.store.stats().topics === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }, Math.min(this.store.ttl, 10_000));
  }
}
