/**
 * `filter`: keeps the values a predicate accepts.
 *
 * @module
 */

import { assertFunction, FUSE, FusedStream, type FusibleOperator } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Keeps the values for which `predicate(value, index)` is truthy; `index`
 * counts the values read from the source, from 0. The predicate may be async.
 * With a type guard, the output type narrows.
 *
 * If the predicate throws (or rejects), the source is closed and the error
 * is rethrown.
 *
 * @typeParam T The values read.
 * @typeParam S The narrowed type, for a type guard.
 * @param predicate Decides whether a value is kept.
 * @returns The operator.
 *
 * @example Narrowing with a type guard
 * ```ts
 * import { filter, pipe } from "@alkdev/pubsub";
 *
 * const values: (number | string)[] = [1, "a", 2];
 * for await (const n of pipe(values, filter((v): v is number => typeof v === "number"))) {
 *   console.log(n.toFixed(1)); // "1.0", "2.0"
 * }
 * ```
 */
export function filter<T, S extends T>(predicate: (value: T, index: number) => value is S): Operator<T, S>;
/**
 * Keeps the values for which `predicate(value, index)` is truthy.
 *
 * @typeParam T The values read.
 * @param predicate Decides whether a value is kept; may return a promise.
 * @returns The operator.
 *
 * @example An async predicate
 * ```ts
 * import { filter, pipe } from "@alkdev/pubsub";
 *
 * const allowed = new Set(["ada"]);
 * for await (const name of pipe(["ada", "bob"], filter(async (name) => allowed.has(name)))) {
 *   console.log(name); // "ada"
 * }
 * ```
 */
export function filter<T>(predicate: (value: T, index: number) => unknown): Operator<T, T>;
export function filter<T>(predicate: (value: T, index: number) => unknown): Operator<T, T> {
  assertFunction(predicate, "filter", "predicate");
  const step = { filter: true, fn: predicate as (value: unknown, index: number) => unknown };
  const op = (source: OperatorSource<T>): OperatorStream<T> => new FusedStream<T>(source, [step]);
  (op as unknown as FusibleOperator)[FUSE] = step;
  return op;
}
