/**
 * The types the operators share: what they read, what they return, and the
 * operator function itself.
 *
 * @module
 */

/**
 * What an operator reads: any async iterable (a subscription, an async
 * generator, another operator's output) or a sync iterable (an array, a Set).
 * Values of a sync iterable are used as they are, not awaited.
 *
 * @typeParam T The values it yields.
 *
 * @example
 * ```ts
 * import type { OperatorSource } from "@alkdev/pubsub";
 *
 * const fromArray: OperatorSource<number> = [1, 2, 3];
 * ```
 */
export type OperatorSource<T> = AsyncIterable<T> | Iterable<T>;

/**
 * What every operator returns: a one-shot async iterator that opens its
 * source at the first `next()` and closes it on `return()`, `throw()`,
 * `break` or `await using`.
 *
 * @typeParam T The values it yields.
 *
 * @example
 * ```ts
 * import { map, type OperatorStream } from "@alkdev/pubsub";
 *
 * const doubled: OperatorStream<number> = map((n: number) => n * 2)([1, 2]);
 * console.log(await doubled.next()); // { value: 2, done: false }
 * await doubled.return();
 * ```
 */
export interface OperatorStream<T> extends AsyncIterableIterator<T, undefined, unknown>, AsyncDisposable {
  /** Returns the stream itself. */
  [Symbol.asyncIterator](): OperatorStream<T>;
  /** Returns the next value; opens the source on the first call. */
  next(): Promise<IteratorResult<T, undefined>>;
  /** Closes every source iterator this stream opened; later `next()` calls are done. */
  return(value?: unknown): Promise<IteratorResult<T, undefined>>;
  /** Closes like `return()`, then rejects with `error`. */
  throw(error?: unknown): Promise<IteratorResult<T, undefined>>;
}

/**
 * An operator: takes a source and returns a lazy stream. Every operator in
 * this package is made by a curried factory, `op(args)(source)`.
 *
 * @typeParam T The values it reads.
 * @typeParam R The values it yields.
 *
 * @example
 * ```ts
 * import { filter, type Operator } from "@alkdev/pubsub";
 *
 * const evens: Operator<number, number> = filter((n: number) => n % 2 === 0);
 * for await (const n of evens([1, 2, 3, 4])) console.log(n); // 2, 4
 * ```
 */
export type Operator<T, R> = (source: OperatorSource<T>) => OperatorStream<R>;

/**
 * What {@linkcode pipe} accepts as a step: any function from an async
 * iterable to an async iterable. Every {@linkcode Operator} is one, and so is
 * an async generator function.
 *
 * @typeParam T The values it reads.
 * @typeParam R The values it yields.
 *
 * @example A custom step written as an async generator
 * ```ts
 * import { pipe, type OperatorFunction } from "@alkdev/pubsub";
 *
 * const pairs: OperatorFunction<number, [number, number]> = async function* (source) {
 *   for await (const n of source) yield [n, n * n];
 * };
 * for await (const pair of pipe([1, 2], pairs)) console.log(pair); // [1, 1], [2, 4]
 * ```
 */
export type OperatorFunction<T, R> = (source: AsyncIterable<T>) => AsyncIterable<R>;
