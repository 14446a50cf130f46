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
import { type HistoryRecovery, type StreamPosition, TopicHistory, type TopicHistoryOptions } from "./topic_history.ts";
import type { EnvelopeEvent, EventEnvelope } from "./types.ts";

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
 * connection that asked for positions), from its plain frame when at hand
 * (the envelope may then be `undefined`: the frame has it).
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
export type EncodeAt<F> = (envelope: EventEnvelope | undefined, position: StreamPosition, frame?: F) => F;

/**
 * An upstream that stores each topic's history itself, shared by several hub
 * processes (the Redis target in streams mode): it numbers every event it
 * delivers (the event's `position`) and answers what a reader missed. A hub
 * with `history` over such an upstream keeps no history of its own.
 *
 * @example
 * ```ts ignore
 * const upstream = createRedisEventTarget({ publishClient, streams: { maxLen: 1000 } });
 * const recovery = await upstream.history("chat:room-1", { epoch: "9f2c41a07be3", offset: 41 });
 * ```
 */
export interface StreamHistorySource {
  /**
   * What a reader at `since` missed of `topic` (see
   * {@linkcode TopicHistory.since}); without `since`, the current position.
   */
  history(topic: string, since: StreamPosition | undefined): Promise<HistoryRecovery<EventEnvelope>>;
}

/**
 * An event as an upstream that stores history delivers it: with its stream position.
 *
 * @example
 * ```ts
 * import type { PositionedEvent } from "@alkdev/pubsub";
 *
 * const event = new CustomEvent("t:1", { detail: { type: "t", id: "1", payload: 1 } }) as PositionedEvent;
 * event.position = { epoch: "e", offset: 1 };
 * ```
 */
export type PositionedEvent = EnvelopeEvent & { position?: StreamPosition };

/** Whether an upstream stores history itself. */
export function isStreamHistorySource(value: unknown): value is StreamHistorySource {
  return typeof (value as Partial<StreamHistorySource> | undefined)?.history === "function";
}

/**
 * What each history entry costs beyond its encoded size, in bytes, as
 * charged against `maxBytes` and `maxTotalBytes`: the entry and envelope
 * objects a hub keeps for it.
 */
const ENTRY_OVERHEAD = 128;

/** Replayed frames sent per event-loop turn, so a long replay does not stall other connections. */
const REPLAY_SLICE = 256;

interface Item<F> {
  frame: F;
  position: StreamPosition | undefined;
}

interface Replay<F> {
  items: Item<F>[];
  head: number;
  /** The upstream's answer is awaited: live frames wait here, to be sent after the replay unless it covered them. */
  fetching: boolean;
  /** Once fetched from the upstream: the newest position the replay holds (a live copy of it or older is dropped). */
  last?: StreamPosition;
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
 * const history = new HubHistory<string>({ size: 10 }, (e, p, f) => f!.slice(0, -1) + `,"offset":${p.offset}}`, () => {});
 * const position = history.record("ping:1", '{"type":"ping","id":"1","payload":1}', 36);
 * console.log(position?.offset); // 1
 * history.close();
 * ```
 */
export class HubHistory<F> {
  /** The per-topic store of plain frames (an object per frame is all an entry costs). */
  readonly store: TopicHistory<F>;
  #encodeAt: EncodeAt<F>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #replays = new Map<HubPeer<F>, Map<string, Replay<F>>>();
  /**
   * After a replay read from the upstream: its last position, per connection and topic, until a newer live frame
   * passes. The upstream's live message for an event can arrive after its history read returned that event (two Redis
   * connections), and is then a duplicate.
   */
  #floors = new Map<HubPeer<F>, Map<string, StreamPosition>>();
  #pump: ReturnType<typeof setTimeout> | undefined;
  #busy: (topic: string) => boolean;
  #source: StreamHistorySource | undefined;
  #onFail: ((peer: HubPeer<F>, topic: string, cause: unknown) => void) | undefined;

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
    source?: StreamHistorySource,
    onFail?: (peer: HubPeer<F>, topic: string, cause: unknown) => void,
  ) {
    this.store = new TopicHistory<F>(options);
    this.store.onDrop = onDrop;
    this.#encodeAt = encodeAt;
    this.#busy = busy;
    this.#source = source;
    this.#onFail = onFail;
  }

  /**
   * Numbers a publication and keeps it.
   *
   * @param topic The topic.
   * @param frame Its plain frame (what is kept).
   * @param bytes Its encoded size.
   * @param position Its position, when the upstream stores history (then nothing is kept here).
   * @returns Its position (`undefined` if the upstream gave none).
   */
  record(topic: string, frame: F, bytes: number, position?: StreamPosition): StreamPosition | undefined {
    if (this.#source !== undefined) return position;
    this.#sweepLater();
    return this.store.append(topic, frame, bytes + ENTRY_OVERHEAD);
  }

  /**
   * Delivers an event to a topic's connections: numbers it where it enters
   * the history (or takes the upstream's position), sends the plain frame to
   * connections that did not ask for positions and the positioned one,
   * encoded once, to those that did (behind any replay), and tells a
   * `recover` sender its own event's position instead of sending it back.
   *
   * @param topic The topic.
   * @param peers The topic's connections.
   * @param event The event.
   * @param frame Its plain frame.
   * @param bytes The frame's size.
   * @param exclude The sender, if a connection.
   * @returns The number of connections it was sent to.
   */
  deliverAll(
    topic: string,
    peers: Iterable<HubPeer<F>>,
    event: PositionedEvent,
    frame: F,
    bytes: number,
    exclude: HubPeer<F> | undefined,
  ): number {
    const position = this.record(topic, frame, bytes, event.position);
    let positioned: F | undefined;
    let sent = 0;
    for (const peer of peers) {
      if (peer.recover !== true || position === undefined) {
        if (peer === exclude) continue;
        sent++;
        peer.sendData(frame);
      } else if (peer === exclude) peer.sentAt?.(topic, position);
      else if (this.deliver(peer, topic, positioned ??= this.#encodeAt(event.detail, position, frame), position)) {
        sent++;
      }
    }
    return sent;
  }

  /**
   * Encodes a positioned frame.
   *
   * @param envelope The envelope.
   * @param position Its position.
   * @param frame Its plain frame, if at hand.
   * @returns The frame.
   */
  frameAt(envelope: EventEnvelope | undefined, position: StreamPosition, frame?: F): F {
    return this.#encodeAt(envelope, position, frame);
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
    const source = this.#source;
    if (source === undefined) {
      this.#sweepLater();
      const recovery = this.store.since(topic, since);
      const frames = recovery.entries.map(({ offset, value }) =>
        this.#encodeAt(undefined, { epoch: recovery.epoch, offset }, value)
      );
      this.#start(peer, topic, recovery, frames, undefined);
      return;
    }
    // From the upstream's store: live frames arriving meanwhile wait, and go after the replay unless it has them.
    const replay: Replay<F> = { items: [], head: 0, fetching: true };
    this.#replaysOf(peer).set(topic, replay);
    source.history(topic, since).then(
      (recovery) => {
        if (this.#replays.get(peer)?.get(topic) !== replay) return;
        const frames = recovery.entries.map(({ offset, value }) =>
          this.#encodeAt(value, { epoch: recovery.epoch, offset })
        );
        this.#start(peer, topic, recovery, frames, replay);
      },
      (cause) => {
        if (this.#replays.get(peer)?.get(topic) !== replay) return;
        this.leave(peer, topic);
        this.#onFail?.(peer, topic, cause);
      },
    );
  }

  /**
   * Answers a repeated subscribe of a live subscription with the current
   * position (nothing if its first answer or replay is still under way).
   *
   * @param peer The connection.
   * @param topic The topic.
   */
  again(peer: HubPeer<F>, topic: string): void {
    if (this.#replays.get(peer)?.has(topic)) return;
    if (this.#source === undefined) peer.subscribed(topic, this.store.open(topic));
    else this.join(peer, topic, undefined);
  }

  #replaysOf(peer: HubPeer<F>): Map<string, Replay<F>> {
    let replays = this.#replays.get(peer);
    if (replays === undefined) this.#replays.set(peer, replays = new Map());
    return replays;
  }

  /** Answers with the position, then queues the replay (and the live frames that waited and are newer). */
  #start(
    peer: HubPeer<F>,
    topic: string,
    recovery: HistoryRecovery<unknown>,
    frames: F[],
    waiting: Replay<F> | undefined,
  ): void {
    const { epoch, entries } = recovery;
    const info: SubscribedInfo = { epoch, offset: recovery.from };
    if (recovery.missed !== undefined) info.missed = recovery.missed;
    peer.subscribed(topic, info);
    const items: Item<F>[] = frames.map((frame) => ({ frame, position: undefined }));
    let last: StreamPosition = {
      epoch,
      offset: entries.length === 0 ? recovery.from : entries[entries.length - 1].offset,
    };
    if (waiting !== undefined) {
      for (const item of waiting.items) {
        const position = item.position;
        if (position === undefined || position.epoch !== epoch || position.offset > last.offset) {
          items.push(item);
          if (position !== undefined) last = position;
        }
      }
    }
    if (items.length === 0) {
      this.#done(peer, topic, waiting === undefined ? undefined : last);
      return;
    }
    this.#replaysOf(peer).set(topic, {
      items,
      head: 0,
      fetching: false,
      last: waiting === undefined ? undefined : last,
    });
    if (this.#pump === undefined) this.#pumpNow();
  }

  /**
   * Sends a live frame, behind any replay still running for the topic.
   *
   * @param peer The connection.
   * @param topic The topic.
   * @param frame The frame.
   * @param position Its position.
   * @returns Whether it was sent or queued: `false` for a frame the replay from the upstream already holds or sent.
   */
  deliver(peer: HubPeer<F>, topic: string, frame: F, position: StreamPosition): boolean {
    const replay = this.#replays.size === 0 ? undefined : this.#replays.get(peer)?.get(topic);
    if (replay === undefined) {
      if (this.#floors.size !== 0 && this.#atOrBelowFloor(peer, topic, position)) return false;
      peer.sendData(frame);
      return true;
    }
    const last = replay.last;
    if (last !== undefined) {
      if (position.epoch === last.epoch && position.offset <= last.offset) return false; // the replay has it
      replay.last = position;
    }
    replay.items.push({ frame, position });
    return true;
  }

  /** Whether a live frame at `position` was sent already by the replay before it; the first newer one lifts the floor. */
  #atOrBelowFloor(peer: HubPeer<F>, topic: string, position: StreamPosition): boolean {
    const floors = this.#floors.get(peer);
    const floor = floors?.get(topic);
    if (floor === undefined) return false;
    if (position.epoch === floor.epoch && position.offset <= floor.offset) return true;
    floors!.delete(topic);
    if (floors!.size === 0) this.#floors.delete(peer);
    return false;
  }

  /** A replay is over; after one read from the upstream, its last position stays as the floor for live frames. */
  #done(peer: HubPeer<F>, topic: string, last: StreamPosition | undefined): void {
    this.leave(peer, topic);
    if (last === undefined) return;
    let floors = this.#floors.get(peer);
    if (floors === undefined) this.#floors.set(peer, floors = new Map());
    floors.set(topic, last);
  }

  /**
   * Drops a replay (the connection unsubscribed, or left).
   *
   * @param peer The connection.
   * @param topic The topic; every topic of the connection without it.
   */
  leave(peer: HubPeer<F>, topic?: string): void {
    const floors = this.#floors.size === 0 ? undefined : this.#floors.get(peer);
    if (floors !== undefined) {
      if (topic === undefined) floors.clear();
      else floors.delete(topic);
      if (floors.size === 0) this.#floors.delete(peer);
    }
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
    this.#floors.clear();
    this.store.clear();
  }

  /** Sends one slice of every running replay; schedules the next turn while any is left. */
  #pumpNow = (): void => {
    this.#pump = undefined;
    for (const [peer, replays] of this.#replays) {
      for (const [topic, replay] of replays) {
        if (replay.fetching) continue;
        const end = Math.min(replay.items.length, replay.head + REPLAY_SLICE);
        while (replay.head < end && this.#replays.get(peer)?.get(topic) === replay) {
          const item = replay.items[replay.head];
          replay.items[replay.head++] = undefined as unknown as Item<F>;
          peer.sendData(item.frame);
        }
        if (replay.head === replay.items.length && this.#replays.get(peer)?.get(topic) === replay) {
          this.#done(peer, topic, replay.last);
        }
      }
    }
    let running = false;
    for (const replays of this.#replays.values()) {
      for (const replay of replays.values()) running ||= !replay.fetching;
    }
    if (running) this.#pump = setTimeout(this.#pumpNow, 0);
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
