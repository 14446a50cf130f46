/**
 * `groupBy`: splits a stream into one stream per key, as keys appear.
 *
 * @module
 */

import { PubSubError } from "../core/errors.ts";
import {
  assertFunction,
  CLOSED,
  closeSource,
  closeUnopened,
  describe,
  DONE,
  isPromiseLike,
  NEW,
  noop,
  OPEN,
  openSource,
  type SourceIterator,
  StreamBase,
  type Waiter,
} from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

const MAX_BUFFER = 2 ** 24;

/**
 * Options for {@linkcode groupBy}.
 *
 * @example
 * ```ts
 * import { groupBy, type GroupByOptions } from "@alkdev/pubsub";
 *
 * const options: GroupByOptions = { bufferSize: 64 };
 * groupBy((event: { room: string }) => event.room, options);
 * ```
 */
export interface GroupByOptions {
  /**
   * The most values a group holds for a consumer that has not asked for
   * them yet, and the most new groups the outer iterator holds; an integer
   * from 1 to 2^24. Past it, that queue ends with a
   * {@linkcode GroupOverflowError}.
   *
   * @default {1024}
   */
  bufferSize?: number;
  /** Ends the outer iterator and every group (discarding queued values) and closes the source when aborted. */
  signal?: AbortSignal;
}

/**
 * One group of {@linkcode groupBy}: a stream of the values with one key.
 *
 * @typeParam K The key.
 * @typeParam T The values.
 *
 * @example
 * ```ts
 * import { groupBy, pipe, type Group } from "@alkdev/pubsub";
 *
 * for await (const group of pipe(["a1", "b1"], groupBy((s: string) => s[0]))) {
 *   const g: Group<string, string> = group;
 *   console.log(g.key); // "a", "b"
 *   await g.return();
 * }
 * ```
 */
export interface Group<K, T> extends OperatorStream<T> {
  /** The key shared by every value of the group. */
  readonly key: K;
  /** Returns the group itself. */
  [Symbol.asyncIterator](): Group<K, T>;
}

/**
 * A {@linkcode groupBy} queue overflowed: a group's consumer (or the outer
 * iterator's) fell `bufferSize` values behind. That queue has ended: its
 * consumer gets the values queued before the overflow, then this error.
 * Later values for that group are dropped; other groups go on.
 *
 * @example
 * ```ts
 * import { GroupOverflowError } from "@alkdev/pubsub";
 *
 * const error = new GroupOverflowError("room-1", 1024);
 * console.log(error.code, error.key, error.bufferSize); // "ERR_GROUP_OVERFLOW" "room-1" 1024
 * ```
 */
export class GroupOverflowError extends PubSubError {
  /** The group's key; `undefined` when the outer iterator's queue of new groups overflowed. */
  readonly key: unknown;
  /** The buffer size that was exceeded. */
  readonly bufferSize: number;

  /**
   * Constructs a new instance.
   *
   * @param key The group's key (`undefined` for the outer iterator).
   * @param bufferSize The buffer size that was exceeded.
   * @param outer Whether the outer iterator's queue overflowed.
   */
  constructor(key: unknown, bufferSize: number, outer = false) {
    super(
      "ERR_GROUP_OVERFLOW",
      outer
        ? `groupBy's outer iterator overflowed its buffer of ${bufferSize} new groups: its consumer is too slow`
        : `Group ${describe(key)} overflowed its buffer of ${bufferSize} values: its consumer is too slow`,
    );
    this.name = "GroupOverflowError";
    this.key = key;
    this.bufferSize = bufferSize;
  }
}

/**
 * Splits the source into groups by `keyFn(value, index)` (compared with
 * SameValueZero, as `Map` does), streaming: a group is emitted by the outer
 * iterator the first time its key is seen, and receives its values as they
 * arrive. `keyFn` may be async.
 *
 * - The source is read whenever the outer iterator or any group is waiting
 *   for a value; values for other groups are queued in those groups.
 * - Every queue (each group's, and the outer iterator's queue of new groups)
 *   holds at most `bufferSize` items; past that it ends with a
 *   {@linkcode GroupOverflowError} after its queued items.
 * - The end of the source, and its error (or a `keyFn` error), reach the
 *   outer iterator and every group, after their queued items.
 * - A group counts as open from its first `next()` until it is closed or
 *   ended. The source is closed once the outer iterator and every open group
 *   are closed; groups emitted but never read then end after their queued
 *   values. Values for a closed group, and new keys once the outer iterator
 *   is closed, are dropped.
 * - Memory: every key seen stays in a map until the source ends, so it
 *   grows with the number of distinct keys.
 *
 * @typeParam T The values.
 * @typeParam K The key.
 * @param keyFn Maps a value to its group's key.
 * @param options `bufferSize` and an abort signal.
 * @returns The operator.
 * @throws {RangeError} If `bufferSize` is invalid.
 *
 * @example One consumer per room
 * ```ts
 * import { groupBy, pipe } from "@alkdev/pubsub";
 *
 * const messages = [{ room: "a", text: "hi" }, { room: "b", text: "yo" }, { room: "a", text: "bye" }];
 * const done: Promise<void>[] = [];
 * for await (const room of pipe(messages, groupBy((m) => m.room))) {
 *   done.push((async () => {
 *     for await (const m of room) console.log(room.key, m.text); // a hi, b yo, a bye
 *   })());
 * }
 * await Promise.all(done);
 * ```
 */
export function groupBy<T, K>(
  keyFn: (value: T, index: number) => K | PromiseLike<K>,
  options: GroupByOptions = {},
): Operator<T, Group<K, T>> {
  assertFunction(keyFn, "groupBy", "key function");
  const { bufferSize = 1024, signal } = options;
  if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > MAX_BUFFER) {
    throw new RangeError(`groupBy: bufferSize must be an integer from 1 to ${MAX_BUFFER}, got ${describe(bufferSize)}`);
  }
  return (source: OperatorSource<T>): OperatorStream<Group<K, T>> =>
    new Core<T, K>(source, keyFn, bufferSize, signal).outer;
}

/** A stream over a bounded queue that the core fills. */
class QueueStream<T> extends StreamBase<T> {
  readonly core: Core<unknown, unknown>;
  #items: (T | undefined)[] = [];
  #head = 0;
  #waiters: Waiter<T>[] = [];
  /** Accepts items (not ended, not closed). */
  accepting = true;
  /** Holds the source open (set by the core). */
  holds = false;
  #hasError = false;
  #error: unknown = undefined;

  constructor(core: Core<unknown, unknown>) {
    super();
    this.core = core;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  protected step(): Promise<IteratorResult<T, undefined>> {
    return this.next();
  }

  /** Called at the first `next()`. */
  protected opening(): void {}

  /** Called for each queued item that `discard()` drops. */
  protected dropped(_item: T): void {}

  override next(): Promise<IteratorResult<T, undefined>> {
    if (this.state === NEW) {
      this.state = OPEN;
      this.opening();
    }
    if (this.size > 0) {
      const items = this.#items;
      const value = items[this.#head] as T;
      items[this.#head++] = undefined;
      if (this.#head === items.length) {
        this.#items = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > items.length) {
        this.#items = items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#hasError) {
      const error = this.#error;
      this.#hasError = false;
      this.#error = undefined;
      this.state = CLOSED;
      return Promise.reject(error);
    }
    if (!this.accepting || this.state === CLOSED) {
      this.state = CLOSED;
      return Promise.resolve(DONE);
    }
    const promise = new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
    this.core.waiting++;
    this.core.pump();
    return promise;
  }

  /** Hands `item` to a waiting consumer or queues it; on overflow ends the queue. Returns whether it was taken. */
  offer(item: T, overflow: () => unknown): boolean {
    if (!this.accepting) return false;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.core.waiting--;
      waiter.resolve({ value: item, done: false });
      return true;
    }
    if (this.size < this.core.bufferSize) {
      this.#items.push(item);
      return true;
    }
    this.end(true, overflow());
    return false;
  }

  /** No more items: queued ones are still delivered, then the error (if any), then done. */
  end(hasError: boolean, error?: unknown): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.core.release(this);
    const waiters = this.#waiters;
    this.#waiters = [];
    this.core.waiting -= waiters.length;
    let i = 0;
    if (hasError) {
      if (waiters.length > 0) waiters[i++].reject(error);
      else {
        this.#hasError = true;
        this.#error = error;
      }
    }
    for (; i < waiters.length; i++) waiters[i].resolve(DONE);
  }

  /** Drops queued items and ends at once. */
  discard(): void {
    const items = this.#items;
    const head = this.#head;
    this.#items = [];
    this.#head = 0;
    for (let i = head; i < items.length; i++) this.dropped(items[i] as T);
    this.#hasError = false;
    this.#error = undefined;
    this.end(false);
  }

  override return(_value?: unknown): Promise<IteratorResult<T, undefined>> {
    this.state = CLOSED;
    this.discard();
    return this.core.closing().then(() => DONE);
  }

  protected close(): Promise<void> {
    return Promise.resolve();
  }
}

class GroupStream<K, T> extends QueueStream<T> implements Group<K, T> {
  readonly key: K;

  constructor(core: Core<unknown, unknown>, key: K) {
    super(core);
    this.key = key;
  }

  protected override opening(): void {
    if (this.accepting) this.core.hold(this);
  }
}

class OuterStream<K, T> extends QueueStream<Group<K, T>> {
  protected override opening(): void {
    this.core.open();
  }

  override return(value?: unknown): Promise<IteratorResult<Group<K, T>, undefined>> {
    if (this.state === NEW) this.core.closeUnopened();
    return super.return(value);
  }

  /** A group still queued here was never seen by the consumer: nobody can read it. */
  protected override dropped(group: Group<K, T>): void {
    (group as GroupStream<K, T>).discard();
  }
}

class Core<T, K> {
  readonly outer: OuterStream<K, T>;
  readonly bufferSize: number;
  readonly #source: OperatorSource<T>;
  readonly #keyFn: (value: T, index: number) => K | PromiseLike<K>;
  readonly #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined = undefined;
  #it: SourceIterator<T> | undefined = undefined;
  /** NEW, OPEN, or CLOSED (source ended, failed or closed). */
  #state = NEW;
  #pulling = false;
  #index = 0;
  #groups = new Map<K, GroupStream<K, T>>();
  /** Consumers waiting for a value, across the outer iterator and the groups. */
  waiting = 0;
  /** Streams holding the source open. */
  #holding = 0;
  #closing: Promise<void> = Promise.resolve();

  constructor(
    source: OperatorSource<T>,
    keyFn: (value: T, index: number) => K | PromiseLike<K>,
    bufferSize: number,
    signal: AbortSignal | undefined,
  ) {
    this.#source = source;
    this.#keyFn = keyFn;
    this.bufferSize = bufferSize;
    this.#signal = signal;
    this.outer = new OuterStream<K, T>(this as unknown as Core<unknown, unknown>);
  }

  /** The outer iterator's first `next()`: open the source. */
  open(): void {
    if (this.#state !== NEW) return;
    if (this.#signal?.aborted) {
      this.#state = CLOSED;
      this.#closing = closeUnopened([this.#source]);
      this.#closing.catch(noop);
      this.outer.end(false);
      return;
    }
    this.#state = OPEN;
    try {
      this.#it = openSource(this.#source);
    } catch (error) {
      this.#state = CLOSED;
      this.outer.end(true, error);
      return;
    }
    this.hold(this.outer);
    if (this.#signal !== undefined) {
      this.#onAbort = () => this.#abort();
      this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  hold(stream: QueueStream<unknown>): void {
    if (stream.holds || this.#state !== OPEN) return;
    stream.holds = true;
    this.#holding++;
  }

  /** The outer iterator ended before its first `next()`: close the source it never opened. */
  closeUnopened(): void {
    if (this.#state !== NEW) return;
    this.#state = CLOSED;
    this.#closing = closeUnopened([this.#source]);
    this.#closing.catch(noop); // the outer return() reports it
  }

  /** `stream` no longer needs the source; closes it once nobody does. */
  release(stream: QueueStream<unknown>): void {
    if (!stream.holds) return;
    stream.holds = false;
    if (--this.#holding > 0 || this.#state !== OPEN) return;
    this.#state = CLOSED;
    this.#unlisten();
    const it = this.#it;
    this.#it = undefined;
    if (it !== undefined) this.#closing = closeSource(it, this.#pulling);
    // Groups emitted but never read: they end after their queued values.
    for (const group of this.#groups.values()) group.end(false);
    this.#groups.clear();
    this.outer.end(false);
  }

  /** Settles once the source (if this stream's release closed it) is closed. */
  closing(): Promise<void> {
    return this.#closing;
  }

  pump(): void {
    while (this.#state === OPEN && !this.#pulling && this.waiting > 0) {
      let result: PromiseLike<IteratorResult<T>> | IteratorResult<T>;
      try {
        result = this.#it!.next();
      } catch (error) {
        this.#fail(error, false);
        return;
      }
      if (isPromiseLike(result)) {
        this.#pulling = true;
        result.then(this.#onResult, this.#onError);
        return;
      }
      if (!this.#handle(result)) return;
    }
  }

  #onResult = (result: IteratorResult<T>): void => {
    this.#pulling = false;
    if (this.#state !== OPEN) return;
    if (this.#handle(result)) this.pump();
  };

  #onError = (error: unknown): void => {
    this.#pulling = false;
    if (this.#state === OPEN) this.#fail(error, false);
  };

  /** Routes one result; returns false if it went async (it pumps again itself). */
  #handle(result: IteratorResult<T>): boolean {
    if (result.done) {
      this.#it = undefined;
      this.#finish(false);
      return true;
    }
    const value = result.value;
    let key: K | PromiseLike<K>;
    try {
      key = this.#keyFn(value, this.#index++);
    } catch (error) {
      this.#fail(error, true);
      return true;
    }
    if (!isPromiseLike(key)) {
      this.#route(value, key);
      return true;
    }
    this.#pulling = true;
    Promise.resolve(key).then(
      (k) => {
        this.#pulling = false;
        if (this.#state !== OPEN) return;
        this.#route(value, k);
        this.pump();
      },
      (error) => {
        this.#pulling = false;
        if (this.#state === OPEN) this.#fail(error, true);
      },
    );
    return false;
  }

  #route(value: T, key: K): void {
    let group = this.#groups.get(key);
    if (group === undefined) {
      if (!this.outer.accepting) return;
      group = new GroupStream<K, T>(this as unknown as Core<unknown, unknown>, key);
      this.#groups.set(key, group);
      const made = group;
      if (!this.outer.offer(made, () => new GroupOverflowError(undefined, this.bufferSize, true))) {
        made.discard();
        return;
      }
      if (this.#state !== OPEN) return;
    }
    const g = group;
    g.offer(value, () => new GroupOverflowError(g.key, this.bufferSize));
  }

  /** The source ended (or failed): end every queue. */
  #finish(hasError: boolean, error?: unknown): void {
    this.#state = CLOSED;
    this.#unlisten();
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    this.outer.end(hasError, error);
    for (const group of groups) group.end(hasError, error);
  }

  #fail(error: unknown, closeIt: boolean): void {
    const it = this.#it;
    this.#it = undefined;
    if (closeIt && it !== undefined) this.#closing = closeSource(it, false).catch(noop);
    this.#finish(true, error);
  }

  #abort(): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSED;
    this.#unlisten();
    const it = this.#it;
    this.#it = undefined;
    if (it !== undefined) this.#closing = closeSource(it, this.#pulling).catch(noop);
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    this.outer.discard();
    for (const group of groups) group.discard();
  }

  #unlisten(): void {
    if (this.#onAbort !== undefined) {
      this.#signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}
