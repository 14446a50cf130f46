/**
 * `join`: merges several sources into one stream, in arrival order.
 *
 * @module
 */

import {
  CLOSED,
  closeSource,
  describe,
  DONE,
  isPromiseLike,
  isSource,
  NEW,
  noop,
  OPEN,
  openSource,
  type SourceIterator,
  StreamBase,
  type Waiter,
} from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Merges the source and `sources` into one stream, in the order values
 * arrive.
 *
 * - All inputs are opened at the first `next()`. Each input has at most one
 *   `next()` in flight and at most one value held, waiting for the consumer;
 *   it is read again only once that value is taken.
 * - It completes when every input has completed.
 * - The first error closes the other inputs at once and is rethrown, after
 *   the values that arrived before it.
 * - `break`/`return()` closes every input. An input whose `next()` is still
 *   pending gets its `return()` called without being awaited (a
 *   subscription ends at once; an async generator finishes when its pending
 *   `next()` settles).
 *
 * @typeParam T The values of the piped source.
 * @typeParam U The values of the other sources.
 * @param sources The sources to merge with the piped one.
 * @returns The operator.
 * @throws {TypeError} If one of `sources` is not iterable.
 *
 * @example Two subscriptions as one stream
 * ```ts
 * import { createPubSub, join, pipe, take } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ chat: string }>();
 * const both = pipe(pubsub.subscribe("chat", "room-1"), join(pubsub.subscribe("chat", "room-2")), take(2));
 * pubsub.publish("chat", "room-2", "hi from 2");
 * pubsub.publish("chat", "room-1", "hi from 1");
 * for await (const message of both) console.log(message); // "hi from 2", "hi from 1"
 * pubsub.close();
 * ```
 */
export function join<T, U = T>(...sources: OperatorSource<U>[]): Operator<T, T | U> {
  sources.forEach((source, i) => {
    if (!isSource(source)) {
      throw new TypeError(`join: source ${i + 1} must be an async iterable or an iterable, got ${describe(source)}`);
    }
  });
  return (source: OperatorSource<T>): OperatorStream<T | U> =>
    new JoinStream<T | U>([source, ...sources] as OperatorSource<T | U>[]);
}

interface Input<T> {
  it: SourceIterator<T> | undefined;
  /** A `next()` on it has not settled. */
  pending: boolean;
}

type Arrival<T> = { input: Input<T>; value: T } | { input: undefined; error: unknown };

class JoinStream<T> extends StreamBase<T> {
  #sources: OperatorSource<T>[];
  #inputs: Input<T>[] = [];
  #open = 0;
  #arrivals: Arrival<T>[] = [];
  #waiters: Waiter<T>[] = [];
  #failed = false;

  constructor(sources: OperatorSource<T>[]) {
    super();
    this.#sources = sources;
  }

  protected step(): Promise<IteratorResult<T, undefined>> {
    return this.next();
  }

  override next(): Promise<IteratorResult<T, undefined>> {
    if (this.state === NEW) this.#start();
    const arrival = this.#arrivals.shift();
    if (arrival !== undefined) {
      if (arrival.input === undefined) return Promise.reject(arrival.error);
      if (!this.#failed) this.#request(arrival.input);
      return Promise.resolve({ value: arrival.value, done: false });
    }
    if (this.state === CLOSED) return Promise.resolve(DONE);
    if (this.#open === 0) {
      this.state = CLOSED;
      return Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #start(): void {
    this.state = OPEN;
    const sources = this.#sources;
    this.#sources = [];
    for (const source of sources) {
      let it: SourceIterator<T>;
      try {
        it = openSource(source);
      } catch (error) {
        this.#fail(undefined, error);
        return;
      }
      const input: Input<T> = { it, pending: false };
      this.#inputs.push(input);
      this.#open++;
    }
    for (const input of this.#inputs) {
      if (this.#failed) break;
      this.#request(input);
    }
  }

  #request(input: Input<T>): void {
    const it = input.it;
    if (it === undefined) return;
    let result: PromiseLike<IteratorResult<T>> | IteratorResult<T>;
    try {
      result = it.next();
    } catch (error) {
      this.#fail(input, error);
      return;
    }
    if (isPromiseLike(result)) {
      input.pending = true;
      result.then(
        (r) => {
          input.pending = false;
          if (input.it !== undefined) this.#arrive(input, r);
        },
        (error) => {
          input.pending = false;
          if (input.it !== undefined) this.#fail(input, error);
        },
      );
    } else {
      this.#arrive(input, result);
    }
  }

  #arrive(input: Input<T>, result: IteratorResult<T>): void {
    if (result.done) {
      input.it = undefined;
      if (--this.#open === 0 && this.#arrivals.length === 0) {
        this.state = CLOSED;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const waiter of waiters) waiter.resolve(DONE);
      }
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: result.value, done: false });
      this.#request(input);
    } else {
      this.#arrivals.push({ input, value: result.value });
    }
  }

  /** `failed` finished with `error` (`undefined`: opening failed): close the other inputs, deliver the error. */
  #fail(failed: Input<T> | undefined, error: unknown): void {
    if (failed !== undefined) failed.it = undefined;
    this.#failed = true;
    this.#closeInputs().catch(noop);
    const waiters = this.#waiters;
    this.#waiters = [];
    if (waiters.length > 0) {
      this.state = CLOSED;
      waiters[0].reject(error);
      for (let i = 1; i < waiters.length; i++) waiters[i].resolve(DONE);
    } else {
      this.#arrivals.push({ input: undefined, error });
      this.state = CLOSED;
    }
  }

  /** Closes every input still open; the first `return()` error rejects, after all were closed. */
  async #closeInputs(): Promise<void> {
    const inputs = this.#inputs;
    this.#inputs = [];
    this.#open = 0;
    const closing: Promise<void>[] = [];
    for (const input of inputs) {
      const it = input.it;
      if (it === undefined) continue;
      input.it = undefined;
      closing.push(closeSource(it, input.pending));
    }
    const results = await Promise.allSettled(closing);
    for (const result of results) if (result.status === "rejected") throw result.reason;
  }

  override return(value?: unknown): Promise<IteratorResult<T, undefined>> {
    this.#arrivals = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve(DONE);
    return super.return(value);
  }

  protected override unopened(): readonly OperatorSource<unknown>[] {
    const sources = this.#sources;
    this.#sources = [];
    return sources;
  }

  protected close(_pending: boolean): Promise<void> {
    return this.#closeInputs();
  }
}
