/**
 * `flat`: flattens nested async iterables and arrays, in order.
 *
 * @module
 */

import { assertCount, CLOSED, closeSource, DONE, openSource, type SourceIterator, StreamBase } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * The values `flat` yields for inputs of type `T` at depth `Depth`: arrays
 * and async iterables are unwrapped `Depth` times; strings and everything
 * else are kept.
 *
 * @typeParam T The input values.
 * @typeParam Depth How many levels to unwrap: 0 to 21 are typed exactly, and `number`
 * (for `Infinity`) unwraps every level.
 *
 * @example
 * ```ts
 * import type { Flattened } from "@alkdev/pubsub";
 *
 * const value: Flattened<number[][], 1> = [1];
 * const deeper: Flattened<number[][], 2> = 1;
 * ```
 */
export type Flattened<T, Depth extends number> = number extends Depth
  ? (T extends string ? T : T extends readonly (infer U)[] ? Flattened<U, number>
  : T extends AsyncIterable<infer U> ? Flattened<U, number>
  : T)
  : {
    done: T;
    recur: T extends string ? T
      : T extends readonly (infer U)[]
        ? Flattened<U, [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20][Depth]>
      : T extends AsyncIterable<infer U>
        ? Flattened<U, [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20][Depth]>
      : T;
  }[Depth extends 0 ? "done" : "recur"];

/**
 * Flattens async iterables and arrays into the stream, in order, up to
 * `depth` levels (`Infinity` for all). Strings, sync iterables other than
 * arrays (a `Set`, a `Map`, a typed array) and other values are yielded as
 * they are.
 *
 * Each inner async iterable is opened when it is reached and read to its
 * end before the next value of the outer source is pulled. On early exit
 * every opened iterator is closed, innermost first; an inner error closes
 * the outer iterators and is rethrown.
 *
 * @typeParam T The values read.
 * @typeParam D The depth.
 * @param depth How many levels to flatten: an integer from 0 up, or
 * `Infinity`.
 * @returns The operator.
 * @throws {RangeError} If `depth` is invalid.
 *
 * @example
 * ```ts
 * import { flat, pipe, toArray } from "@alkdev/pubsub";
 *
 * async function* inner() {
 *   yield 2;
 *   yield 3;
 * }
 * const out = pipe([[1], inner(), "ab", [[4]]], flat(), toArray());
 * console.log((await out.next()).value); // [1, 2, 3, "ab", [4]]
 * ```
 */
export function flat<T, D extends number = 1>(depth: D = 1 as D): Operator<T, Flattened<T, D>> {
  assertCount(depth, "flat", "depth", 0, true);
  return (source: OperatorSource<T>): OperatorStream<Flattened<T, D>> =>
    new FlatStream<Flattened<T, D>>(source as OperatorSource<unknown>, depth);
}

function isFlattenable(value: unknown): value is OperatorSource<unknown> {
  if (Array.isArray(value)) return true;
  return value !== null && typeof value === "object" &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

class FlatStream<T> extends StreamBase<T> {
  readonly #source: OperatorSource<unknown>;
  readonly #depth: number;
  /** The opened iterators, outermost first. */
  #stack: SourceIterator<unknown>[] = [];

  constructor(source: OperatorSource<unknown>, depth: number) {
    super();
    this.#source = source;
    this.#depth = depth;
  }

  protected async step(): Promise<IteratorResult<T, undefined>> {
    const stack = this.#stack;
    try {
      if (this.state !== CLOSED && stack.length === 0) {
        this.state = 1;
        stack.push(openSource(this.#source));
      }
      for (;;) {
        const top = stack[stack.length - 1];
        let result: IteratorResult<unknown>;
        try {
          result = await top.next();
        } catch (error) {
          if (this.returned) return DONE;
          stack.pop(); // it failed: it is finished
          throw error;
        }
        if (this.state === CLOSED) return DONE;
        if (result.done) {
          stack.pop();
          if (stack.length === 0) {
            this.state = CLOSED;
            return DONE;
          }
          continue;
        }
        const value = result.value;
        if (stack.length <= this.#depth && isFlattenable(value)) {
          stack.push(openSource(value));
          continue;
        }
        return { value: value as T, done: false };
      }
    } catch (error) {
      if (this.returned) return DONE;
      this.state = CLOSED;
      await this.#closeAll(false).catch(() => {});
      throw error;
    } finally {
      this.unlock();
    }
  }

  /** Closes the opened iterators, innermost first; the first `return()` error rejects, after all were closed. */
  async #closeAll(pending: boolean): Promise<void> {
    const stack = this.#stack;
    this.#stack = [];
    let failure: { error: unknown } | undefined;
    for (let i = stack.length - 1; i >= 0; i--) {
      try {
        await closeSource(stack[i], pending && i === stack.length - 1);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  protected override unopened(): readonly OperatorSource<unknown>[] {
    return [this.#source];
  }

  protected close(pending: boolean): Promise<void> {
    return this.#closeAll(pending);
  }
}
