/**
 * `TopicHistory`: a bounded, in-memory history per topic, the store behind a
 * hub's recovery (see docs/architecture/hub.md#delivery-guarantees).
 *
 * Each topic has one **stream**: an `epoch` (a random id of that stream) and
 * the entries appended to it, numbered by `offset` from 1, increasing by 1.
 * A stream that is dropped (evicted, expired, or lost with the process) is
 * gone with its epoch: the next append starts a new stream with a new epoch,
 * so a reader holding an old position learns that the history it knew is gone.
 *
 * Bounds, applied on every append (and `sweep`):
 * 1. per topic, entries older than `ttl` ms are dropped, oldest first;
 * 2. per topic, the oldest entries beyond `size` entries or `maxBytes` bytes;
 * 3. over the global caps (`maxTopics` streams, `maxTotalBytes` bytes), whole
 *    streams, least recently appended to first (never the one being appended
 *    to), in the "second chance" approximation: streams are kept in creation
 *    order, and one appended to since it was last passed over goes to the back
 *    once instead of being dropped;
 * 4. a stream with no append for `ttl` ms is dropped whole by `sweep`, unless
 *    the caller still needs it (a topic with subscribers).
 *
 * @module
 */

/**
 * A reader's place in a topic's stream: the epoch and the last offset it has.
 *
 * @example
 * ```ts
 * import type { StreamPosition } from "@alkdev/pubsub";
 *
 * const position: StreamPosition = { epoch: "9f2c41a07be3", offset: 41 };
 * ```
 */
export interface StreamPosition {
  /** The id of the topic's history stream. */
  epoch: string;
  /** The last offset (0 before the first entry). */
  offset: number;
}

/**
 * Bounds of a {@linkcode TopicHistory}.
 *
 * @example
 * ```ts
 * import type { TopicHistoryOptions } from "@alkdev/pubsub";
 *
 * const options: TopicHistoryOptions = { size: 500, ttl: 300_000 };
 * ```
 */
export interface TopicHistoryOptions {
  /**
   * The most entries kept per topic; older ones are dropped first.
   *
   * @default {100}
   */
  size?: number;
  /**
   * How long an entry is kept, in milliseconds; also how long a topic's
   * stream outlives its last append.
   *
   * @default {120000}
   */
  ttl?: number;
  /**
   * The most bytes (as counted by the caller, e.g. the encoded frame's length)
   * kept per topic; older entries are dropped first.
   *
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * The most topic streams kept; past it the least recently appended stream is dropped whole.
   *
   * @default {10000}
   */
  maxTopics?: number;
  /**
   * The most bytes kept over all topics; past it the least recently appended streams are dropped whole.
   *
   * @default {33554432}
   */
  maxTotalBytes?: number;
}

/**
 * What a {@linkcode TopicHistory} can give a reader that asks from a position.
 *
 * @typeParam T The stored value type.
 *
 * @example
 * ```ts
 * import type { HistoryRecovery } from "@alkdev/pubsub";
 *
 * const recovery: HistoryRecovery<string> = { epoch: "9f2c41a07be3", from: 41, entries: [{ offset: 42, value: "x" }] };
 * ```
 */
export interface HistoryRecovery<T> {
  /** The stream's epoch. */
  epoch: string;
  /** The offset the entries follow: the reader's position once it has them is `from` + `entries.length`. */
  from: number;
  /** The entries after `from`, oldest first. */
  entries: { offset: number; value: T }[];
  /**
   * Absent: nothing was lost. A number: that many entries were lost before
   * `entries`. `null`: an unknown number was lost (the epoch changed).
   */
  missed?: number | null;
}

/**
 * The history's counters.
 *
 * @example
 * ```ts
 * import type { TopicHistoryStats } from "@alkdev/pubsub";
 *
 * const stats: TopicHistoryStats = { topics: 1, entries: 10, bytes: 420 };
 * ```
 */
export interface TopicHistoryStats {
  /** Topic streams held. */
  topics: number;
  /** Entries held over all topics. */
  entries: number;
  /** Bytes held over all topics. */
  bytes: number;
}

const DEFAULT_SIZE = 100;
const DEFAULT_TTL = 120_000;
const DEFAULT_MAX_BYTES = 1 << 20;
const DEFAULT_MAX_TOPICS = 10_000;
const DEFAULT_MAX_TOTAL_BYTES = 32 << 20;

class Stream<T> {
  readonly epoch: string = newEpoch();
  /** The last offset handed out (0: none yet). */
  top = 0;
  /**
   * The entries, oldest first from `start`, in rings of parallel arrays (no object per entry; offsets are
   * contiguous, so implied). The rings grow by doubling, up to the history's `size`.
   */
  values: T[] = [];
  sizes: number[] = [];
  times: number[] = [];
  start = 0;
  length = 0;
  bytes = 0;
  last: number;
  /** Appended to since eviction last passed over it (its second chance). */
  touched = false;

  constructor(now: number) {
    this.last = now;
  }

  /** The offset of the oldest entry held, or `top + 1` when none is. */
  get first(): number {
    return this.top + 1 - this.length;
  }

  /** The `i`-th entry's ring index, 0 the oldest. */
  at(i: number): number {
    const index = this.start + i;
    return index < this.values.length ? index : index - this.values.length;
  }

  push(value: T, bytes: number, at: number, max: number): void {
    if (this.length === this.values.length) this.#grow(max);
    const index = this.at(this.length++);
    this.values[index] = value;
    this.sizes[index] = bytes;
    this.times[index] = at;
    this.bytes += bytes;
  }

  /** Drops the oldest entry; returns its size. */
  shift(): number {
    const index = this.start;
    const bytes = this.sizes[index];
    this.values[index] = undefined as T;
    this.start = index + 1 === this.values.length ? 0 : index + 1;
    this.length--;
    this.bytes -= bytes;
    return bytes;
  }

  #grow(max: number): void {
    const capacity = Math.min(max, Math.max(4, this.values.length * 2));
    const values: T[] = new Array(capacity);
    const sizes: number[] = new Array(capacity).fill(0);
    const times: number[] = new Array(capacity).fill(0);
    for (let i = 0; i < this.length; i++) {
      const index = this.at(i);
      values[i] = this.values[index];
      sizes[i] = this.sizes[index];
      times[i] = this.times[index];
    }
    this.values = values;
    this.sizes = sizes;
    this.times = times;
    this.start = 0;
  }
}

/**
 * A bounded history per topic with offsets and epochs. Not tied to any
 * transport: a hub stores what it will replay (an envelope, say) and the
 * size it charges for it.
 *
 * @typeParam T The stored value type.
 *
 * @example
 * ```ts
 * import { TopicHistory } from "@alkdev/pubsub";
 *
 * const history = new TopicHistory<string>({ size: 2 });
 * const first = history.append("t:1", "a", 1);
 * history.append("t:1", "b", 1);
 * history.append("t:1", "c", 1);
 * const recovery = history.since("t:1", first);
 * console.log(recovery.entries.map((e) => e.value), recovery.missed); // ["b", "c"] undefined
 * ```
 */
export class TopicHistory<T> {
  readonly #size: number;
  readonly #ttl: number;
  readonly #maxBytes: number;
  readonly #maxTopics: number;
  readonly #maxTotalBytes: number;
  /** In creation order, a stream moved to the back when eviction passes over it while touched. */
  #streams = new Map<string, Stream<T>>();
  #entries = 0;
  #bytes = 0;
  /** Called with each topic whose stream is dropped (evicted or expired). */
  onDrop: ((topic: string) => void) | undefined;

  /**
   * Creates an empty history.
   *
   * @param options The bounds.
   * @throws {RangeError} If a bound is not a positive number.
   */
  constructor(options: TopicHistoryOptions = {}) {
    this.#size = positive("size", options.size ?? DEFAULT_SIZE);
    this.#ttl = positive("ttl", options.ttl ?? DEFAULT_TTL);
    this.#maxBytes = positive("maxBytes", options.maxBytes ?? DEFAULT_MAX_BYTES);
    this.#maxTopics = positive("maxTopics", options.maxTopics ?? DEFAULT_MAX_TOPICS);
    this.#maxTotalBytes = positive("maxTotalBytes", options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES);
  }

  /** How long entries and idle streams are kept, in milliseconds. */
  get ttl(): number {
    return this.#ttl;
  }

  /**
   * Whether `topic` has a stream.
   *
   * @param topic The topic.
   */
  has(topic: string): boolean {
    return this.#streams.has(topic);
  }

  /**
   * The topic's current position (its epoch and last offset), starting an
   * empty stream if it has none, so that a reader positioned now can later
   * tell an unbroken stream from a new one.
   *
   * @param topic The topic.
   * @param now The current time in ms.
   * @returns The position.
   */
  open(topic: string, now: number = Date.now()): StreamPosition {
    let stream = this.#streams.get(topic);
    if (stream === undefined) {
      stream = new Stream<T>(now);
      this.#streams.set(topic, stream);
      this.#evict(stream);
    }
    return { epoch: stream.epoch, offset: stream.top };
  }

  /**
   * Appends a value to the topic's stream and applies the bounds.
   *
   * @param topic The topic.
   * @param value What to keep.
   * @param bytes What it counts against `maxBytes` and `maxTotalBytes`.
   * @param now The current time in ms.
   * @returns The value's position.
   */
  append(topic: string, value: T, bytes: number, now: number = Date.now()): StreamPosition {
    let stream = this.#streams.get(topic);
    if (stream === undefined) this.#streams.set(topic, stream = new Stream<T>(now));
    else stream.touched = true;
    stream.last = now;
    const offset = ++stream.top;
    // Room first, so the ring never outgrows `size`.
    while (stream.length >= this.#size) this.#drop(stream);
    stream.push(value, bytes, now, this.#size);
    this.#entries++;
    this.#bytes += bytes;
    this.#trim(stream, now);
    while (stream.length > 0 && (stream.length > this.#size || stream.bytes > this.#maxBytes)) this.#drop(stream);
    this.#evict(stream);
    return { epoch: stream.epoch, offset };
  }

  /**
   * What a reader at `position` missed: the entries after it, and whether
   * any were lost. Without a position, or for another epoch, the reader is
   * placed at the stream's top (nothing to replay); a position from another
   * epoch reports `missed: null`.
   *
   * @param topic The topic.
   * @param position The reader's last position, if it has one.
   * @param now The current time in ms.
   * @returns The entries to replay and the loss, if any.
   */
  since(topic: string, position: StreamPosition | undefined, now: number = Date.now()): HistoryRecovery<T> {
    const { epoch, offset: top } = this.open(topic, now);
    const stream = this.#streams.get(topic)!;
    this.#trim(stream, now);
    if (position === undefined) return { epoch, from: top, entries: [] };
    if (position.epoch !== epoch || position.offset > top) return { epoch, from: top, entries: [], missed: null };
    const first = stream.first;
    const from = Math.max(position.offset, first - 1);
    const entries: { offset: number; value: T }[] = [];
    for (let i = from + 1 - first, offset = from + 1; i < stream.length; i++, offset++) {
      entries.push({ offset, value: stream.values[stream.at(i)] });
    }
    const recovery: HistoryRecovery<T> = { epoch, from, entries };
    if (from > position.offset) recovery.missed = from - position.offset;
    return recovery;
  }

  /**
   * Drops every stream idle for longer than `ttl`, except those `keep` names
   * (topics still subscribed: they count as appended to now), and the expired
   * entries of those. One pass over the streams.
   *
   * @param now The current time in ms.
   * @param keep Topics whose stream stays.
   */
  sweep(now: number = Date.now(), keep?: (topic: string) => boolean): void {
    const oldest = now - this.#ttl;
    const idle: [string, Stream<T>][] = [];
    for (const entry of this.#streams) if (entry[1].last < oldest) idle.push(entry);
    for (const [topic, stream] of idle) {
      if (keep?.(topic) === true) {
        stream.last = now;
        this.#trim(stream, now);
      } else this.#remove(topic, stream);
    }
  }

  /**
   * Drops one topic's stream (its epoch is gone with it).
   *
   * @param topic The topic.
   */
  delete(topic: string): void {
    const stream = this.#streams.get(topic);
    if (stream !== undefined) this.#remove(topic, stream);
  }

  /** Drops everything. */
  clear(): void {
    for (const [topic, stream] of [...this.#streams]) this.#remove(topic, stream);
  }

  /** The counters. */
  stats(): TopicHistoryStats {
    return { topics: this.#streams.size, entries: this.#entries, bytes: this.#bytes };
  }

  #trim(stream: Stream<T>, now: number): void {
    const oldest = now - this.#ttl;
    while (stream.length > 0 && stream.times[stream.start] < oldest) this.#drop(stream);
  }

  #drop(stream: Stream<T>): void {
    this.#entries--;
    this.#bytes -= stream.shift();
  }

  #evict(keep: Stream<T>): void {
    while (this.#streams.size > this.#maxTopics || this.#bytes > this.#maxTotalBytes) {
      const [topic, stream] = this.#streams.entries().next().value as [string, Stream<T>];
      if ((stream.touched || stream === keep) && this.#streams.size > 1) {
        stream.touched = false;
        this.#streams.delete(topic);
        this.#streams.set(topic, stream);
        continue;
      }
      if (stream === keep) {
        // Only the stream being appended to is left over the cap: shed its own oldest entries.
        if (stream.length === 0) return;
        this.#drop(stream);
        continue;
      }
      this.#remove(topic, stream);
    }
  }

  #remove(topic: string, stream: Stream<T>): void {
    this.#streams.delete(topic);
    this.#entries -= stream.length;
    this.#bytes -= stream.bytes;
    this.onDrop?.(topic);
  }
}

/**
 * A new random epoch: 12 hexadecimal digits (48 bits).
 *
 * @returns The epoch.
 *
 * @example
 * ```ts
 * import { newEpoch } from "@alkdev/pubsub";
 *
 * console.log(newEpoch().length); // 12
 * ```
 */
export function newEpoch(): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

function positive(name: string, value: number): number {
  if (typeof value !== "number" || !(value > 0)) {
    throw new RangeError(`Expected history ${name} to be a positive number, got ${String(value)}`);
  }
  return value;
}
