/**
 * `reduce`: folds the whole source into one value.
 *
 * @module
 */

import { assertFunction, CLOSED, DONE, isPromiseLike, OneSourceStream } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Folds the source with `fn(accumulator, value, index)`, starting from the
 * first value, and yields the result once, when the source ends. `index` is
 * the value's position in the source (so the first call gets index 1, as
 * with `Array.prototype.reduce`). `fn` may be async.
 *
 * @typeParam T The values, and the result.
 * @param fn The reducer.
 * @returns The operator. On an empty source its first `next()` rejects with
 * a `TypeError`.
 *
 * @example
 * ```ts
 * import { pipe, reduce } from "@alkdev/pubsub";
 *
 * for await (const max of pipe([3, 9, 4], reduce((a, b) => Math.max(a, b)))) console.log(max); // 9
 * ```
 */
export function reduce<T>(fn: (accumulator: T, value: T, index: number) => T | PromiseLike<T>): Operator<T, T>;
/**
 * Folds the source with `fn(accumulator, value, index)`, starting from
 * `seed`, and yields the result once, when the source ends (the seed itself
 * for an empty source). An explicit `undefined` seed counts as a seed.
 *
 * @typeParam T The values read.
 * @typeParam A The accumulator, and the result.
 * @param fn The reducer; may be async.
 * @param seed The initial accumulator.
 * @returns The operator.
 *
 * @example Counting per key
 * ```ts
 * import { pipe, reduce } from "@alkdev/pubsub";
 *
 * const counts = pipe(
 *   ["a", "b", "a"],
 *   reduce((acc, key) => acc.set(key, (acc.get(key) ?? 0) + 1), new Map<string, number>()),
 * );
 * for await (const map of counts) console.log(map.get("a")); // 2
 * ```
 */
export function reduce<T, A>(
  fn: (accumulator: A, value: T, index: number) => A | PromiseLike<A>,
  seed: A,
): Operator<T, A>;
export function reduce<T, A>(
  ...args: [fn: (accumulator: A, value: T, index: number) => A | PromiseLike<A>, seed?: A]
): Operator<T, A> {
  const [fn, seed] = args;
  assertFunction(fn, "reduce", "reducer");
  const hasSeed = args.length >= 2;
  return (source: OperatorSource<T>): OperatorStream<A> => new ReduceStream(source, fn, hasSeed, seed as A);
}

class ReduceStream<T, A> extends OneSourceStream<T, A> {
  readonly #fn: (accumulator: A, value: T, index: number) => A | PromiseLike<A>;
  readonly #hasSeed: boolean;
  readonly #seed: A;

  constructor(
    source: OperatorSource<T>,
    fn: (accumulator: A, value: T, index: number) => A | PromiseLike<A>,
    hasSeed: boolean,
    seed: A,
  ) {
    super(source);
    this.#fn = fn;
    this.#hasSeed = hasSeed;
    this.#seed = seed;
  }

  protected async step(): Promise<IteratorResult<A, undefined>> {
    let inCallback = false;
    try {
      const it = this.open();
      let accumulator = this.#seed;
      let has = this.#hasSeed;
      for (let index = 0;; index++) {
        inCallback = false;
        const result = await it.next();
        if (this.state === CLOSED) return DONE;
        if (result.done) break;
        if (!has) {
          accumulator = result.value as unknown as A;
          has = true;
          continue;
        }
        inCallback = true;
        let next = this.#fn(accumulator, result.value, index);
        if (isPromiseLike(next)) {
          next = await next;
          if (this.state === CLOSED) return DONE;
        }
        accumulator = next as A;
      }
      this.end();
      if (!has) throw new TypeError("reduce: the source was empty and no seed was given");
      return { value: accumulator, done: false };
    } catch (error) {
      if (this.returned) return DONE;
      if (inCallback) return await this.fail(error);
      this.end();
      throw error;
    } finally {
      this.unlock();
    }
  }
}
