/**
 * `dedupe`: drops values whose key was seen before.
 *
 * @module
 */

import { assertCount, assertFunction, CLOSED, DONE, isPromiseLike, OneSourceStream } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Options for {@linkcode dedupe}.
 *
 * @example
 * ```ts
 * import { dedupe, type DedupeOptions } from "@alkdev/pubsub";
 *
 * const options: DedupeOptions = { max: 10_000 };
 * dedupe((event: { id: string }) => event.id, options);
 * ```
 */
export interface DedupeOptions {
  /**
   * Remembers only the `max` most recently seen keys (an integer from 1 up),
   * which bounds memory; `max: 1` drops only consecutive repeats
   * (distinct-until-changed). Without it, every key ever seen is kept.
   *
   * @default {Infinity}
   */
  max?: number;
}

/**
 * Drops every value whose key (`key(value, index)`, or the value itself) was
 * already seen, compared with SameValueZero (as `Set` does: `NaN` equals
 * `NaN`, `0` equals `-0`, objects by identity). The key function may be
 * async.
 *
 * Memory: without `max`, every distinct key is kept for the life of the
 * stream, so memory grows without bound on an unbounded source. With `max`,
 * the keys form a least-recently-seen cache: a key seen again (kept or
 * dropped) becomes the most recent, and past `max` keys the least recent one
 * is forgotten (and would pass again).
 *
 * @typeParam T The values.
 * @param key Maps a value to its key; the value itself by default.
 * @param options `max`, the most keys remembered.
 * @returns The operator.
 * @throws {RangeError} If `max` is not an integer from 1 up (or `Infinity`).
 *
 * @example Distinct values, then distinct-until-changed
 * ```ts
 * import { dedupe, pipe, toArray } from "@alkdev/pubsub";
 *
 * console.log((await pipe([1, 2, 1, 3, 3], dedupe(), toArray()).next()).value); // [1, 2, 3]
 * console.log((await pipe([1, 1, 2, 1], dedupe(undefined, { max: 1 }), toArray()).next()).value); // [1, 2, 1]
 * ```
 */
export function dedupe<T>(key?: (value: T, index: number) => unknown, options: DedupeOptions = {}): Operator<T, T> {
  if (key !== undefined) assertFunction(key, "dedupe", "key function");
  const { max = Infinity } = options;
  assertCount(max, "dedupe", "max", 1, true);
  return (source: OperatorSource<T>): OperatorStream<T> => new DedupeStream(source, key, max);
}

class DedupeStream<T> extends OneSourceStream<T, T> {
  readonly #key: ((value: T, index: number) => unknown) | undefined;
  readonly #max: number;
  #index = 0;
  /** Unbounded: a Set. Bounded: a Map used as an LRU list (insertion order = recency). */
  readonly #seen: Set<unknown> | Map<unknown, true>;
  #last: unknown = undefined;
  #hasLast = false;
  #oldest: MapIterator<unknown> | undefined = undefined;

  constructor(source: OperatorSource<T>, key: ((value: T, index: number) => unknown) | undefined, max: number) {
    super(source);
    this.#key = key;
    this.#max = max;
    this.#seen = max === Infinity ? new Set() : new Map();
  }

  /** Records `key`; returns whether it was new. */
  #see(key: unknown): boolean {
    const max = this.#max;
    if (max === 1) {
      const fresh = !this.#hasLast || !sameValueZero(this.#last, key);
      this.#last = key;
      this.#hasLast = true;
      return fresh;
    }
    if (max === Infinity) {
      const seen = this.#seen as Set<unknown>;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }
    const seen = this.#seen as Map<unknown, true>;
    if (seen.has(key)) {
      seen.delete(key);
      seen.set(key, true);
      return false;
    }
    seen.set(key, true);
    if (seen.size > max) {
      // A Map iterates in insertion order, skipping deleted entries and reaching re-added ones at the
      // end, so one long-lived iterator always yields the least recently seen key: no allocation per
      // eviction.
      const oldest = (this.#oldest ??= seen.keys());
      seen.delete(oldest.next().value);
    }
    return true;
  }

  protected async step(): Promise<IteratorResult<T, undefined>> {
    let inCallback = false;
    try {
      const it = this.it ?? this.open();
      for (;;) {
        inCallback = false;
        const result = await it.next();
        if (this.state === CLOSED) return DONE;
        if (result.done) {
          this.#seen.clear();
          return this.end();
        }
        const value = result.value;
        let key: unknown = value;
        if (this.#key !== undefined) {
          inCallback = true;
          key = this.#key(value, this.#index++);
          if (isPromiseLike(key)) {
            key = await key;
            if (this.state === CLOSED) return DONE;
          }
        }
        if (this.#see(key)) return { value, done: false };
      }
    } catch (error) {
      if (this.returned) return DONE;
      this.#seen.clear();
      if (inCallback) return await this.fail(error);
      this.end();
      throw error;
    } finally {
      this.unlock();
    }
  }

  protected override close(pending: boolean): Promise<void> {
    this.#seen.clear();
    this.#oldest = undefined;
    this.#last = undefined;
    return super.close(pending);
  }
}

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}
