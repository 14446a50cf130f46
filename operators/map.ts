/**
 * `map`: transforms each value.
 *
 * @module
 */

import { assertFunction, FUSE, FusedStream, type FusibleOperator } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Replaces each value with `fn(value, index)`; `index` counts the values read
 * from the source, from 0. If `fn` returns a promise, its result is awaited,
 * so values stay in order.
 *
 * If `fn` throws (or rejects), the source is closed and the error is
 * rethrown.
 *
 * @typeParam T The values read.
 * @typeParam R The values yielded.
 * @param fn The transformation; may be async.
 * @returns The operator.
 *
 * @example
 * ```ts
 * import { map, pipe } from "@alkdev/pubsub";
 *
 * for await (const label of pipe([3, 4], map((n, i) => `#${i}: ${n * 2}`))) {
 *   console.log(label); // "#0: 6", "#1: 8"
 * }
 * ```
 */
export function map<T, R>(fn: (value: T, index: number) => R | PromiseLike<R>): Operator<T, R> {
  assertFunction(fn, "map");
  const step = { filter: false, fn: fn as (value: unknown, index: number) => unknown };
  const op = (source: OperatorSource<T>): OperatorStream<R> => new FusedStream<R>(source, [step]);
  (op as unknown as FusibleOperator)[FUSE] = step;
  return op;
}
