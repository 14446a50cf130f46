/**
 * `take`: the first `n` values, then stop.
 *
 * @module
 */

import { assertCount, CLOSED, closeSource, closeUnopened, DONE, OneSourceStream } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Options for {@linkcode take}.
 *
 * @example
 * ```ts
 * import { take, type TakeOptions } from "@alkdev/pubsub";
 *
 * const options: TakeOptions = { signal: AbortSignal.timeout(1000) };
 * take(10, options);
 * ```
 */
export interface TakeOptions {
  /** Ends the stream (gracefully, like `return()`) when aborted, closing the source. */
  signal?: AbortSignal;
}

/**
 * Yields the first `n` values of the source, then finishes.
 *
 * - `n` is a non-negative integer or `Infinity`; anything else throws a
 *   `RangeError` at once.
 * - `take(0)` reads nothing: its first `next()` closes the source (its
 *   `return()`, no `next()`) and is done.
 * - The source is closed (its `return()` awaited) as soon as the n-th value
 *   arrives, before that value is handed on: a subscription releases its
 *   listener at once, not at the next pull.
 *
 * @typeParam T The values.
 * @param n How many values to take.
 * @param options An abort signal.
 * @returns The operator.
 * @throws {RangeError} If `n` is not a non-negative integer or `Infinity`.
 *
 * @example The first event, then unsubscribe
 * ```ts
 * import { createPubSub, pipe, take } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ ping: number }>();
 * const first = pipe(pubsub.subscribe("ping", "a"), take(1));
 * pubsub.publish("ping", "a", 1);
 * for await (const n of first) console.log(n); // 1; the listener is already gone here
 * pubsub.close();
 * ```
 */
export function take<T>(n: number, options: TakeOptions = {}): Operator<T, T> {
  assertCount(n, "take", "n", 0, true);
  const { signal } = options;
  return (source: OperatorSource<T>): OperatorStream<T> => new TakeStream(source, n, signal);
}

class TakeStream<T> extends OneSourceStream<T, T> {
  #left: number;
  readonly #signal: AbortSignal | undefined;

  constructor(source: OperatorSource<T>, n: number, signal: AbortSignal | undefined) {
    super(source);
    this.#left = n;
    this.#signal = signal;
  }

  protected async step(): Promise<IteratorResult<T, undefined>> {
    try {
      let it = this.it;
      if (it === undefined) {
        if (this.#left === 0 || this.#signal?.aborted) {
          // Done before it began: the source is closed all the same (a subscription must not stay behind).
          this.state = CLOSED;
          await closeUnopened([this.source]);
          return DONE;
        }
        it = this.open();
        this.watch(this.#signal);
      }
      const result = await it.next();
      if (this.state === CLOSED) return DONE;
      if (result.done) return this.end();
      if (--this.#left === 0) {
        this.end();
        await closeSource(it, false); // a failing return() rejects this next()
      }
      return { value: result.value, done: false };
    } catch (error) {
      if (this.returned) return DONE;
      this.end();
      throw error;
    } finally {
      this.unlock();
    }
  }
}
