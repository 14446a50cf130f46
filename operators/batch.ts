/**
 * `batch`: groups values into arrays by count and, optionally, by time.
 *
 * @module
 */

import {
  assertCount,
  CLOSED,
  closeSource,
  closeUnopened,
  describe,
  DONE,
  isPromiseLike,
  NEW,
  OPEN,
  openSource,
  type SourceIterator,
  StreamBase,
  type Waiter,
} from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Options for {@linkcode batch}.
 *
 * @example
 * ```ts
 * import { batch, type BatchOptions } from "@alkdev/pubsub";
 *
 * const options: BatchOptions = { maxWait: 50 };
 * batch(100, options);
 * ```
 */
export interface BatchOptions {
  /**
   * Flushes a batch this many milliseconds after its first value, even if it
   * is not full. A finite number from 0 up; without it, batches flush only
   * when full or at the end.
   *
   * @default {undefined}
   */
  maxWait?: number;
  /** Ends the stream (gracefully, like `return()`) when aborted: the partial batch is dropped. */
  signal?: AbortSignal;
}

/**
 * Groups values into non-overlapping arrays of `size` values.
 *
 * - A batch is flushed when it holds `size` values, or `maxWait` ms after
 *   its first value arrived (when `maxWait` is set). While the consumer is
 *   waiting, the source is read continuously; when a timer flushes a batch
 *   the consumer is not waiting for, the batch is held for its next `next()`
 *   and the source is not read further meanwhile.
 * - It never emits an empty array; the last partial batch is flushed when
 *   the source ends. Every emitted array is a new one.
 * - If the source fails, the partial batch is dropped and the error is
 *   rethrown (after any batch already flushed).
 * - The timer runs only while a partial batch exists, and never after the
 *   stream ends.
 *
 * @typeParam T The values.
 * @param size The most values in a batch: an integer from 1 up, or `Infinity`.
 * @param options `maxWait` and an abort signal.
 * @returns The operator.
 * @throws {RangeError} If `size` or `maxWait` is invalid.
 *
 * @example Writing events in batches of 100, at most 50 ms late
 * ```ts
 * import { batch, createPubSub, pipe } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ log: string }>();
 * const lines = pipe(pubsub.subscribe("log", "app"), batch(100, { maxWait: 50 }));
 * pubsub.publish("log", "app", "started");
 * console.log((await lines.next()).value); // ["started"], after 50 ms
 * await lines.return();
 * pubsub.close();
 * ```
 */
export function batch<T>(size: number, options: BatchOptions = {}): Operator<T, T[]> {
  assertCount(size, "batch", "size", 1, true);
  const { maxWait, signal } = options;
  if (maxWait !== undefined && !(typeof maxWait === "number" && Number.isFinite(maxWait) && maxWait >= 0)) {
    throw new RangeError(`batch: maxWait must be a finite number from 0 up, got ${describe(maxWait)}`);
  }
  return (source: OperatorSource<T>): OperatorStream<T[]> => new BatchStream(source, size, maxWait, signal);
}

class BatchStream<T> extends StreamBase<T[]> {
  readonly #source: OperatorSource<T>;
  readonly #size: number;
  readonly #maxWait: number | undefined;
  readonly #signal: AbortSignal | undefined;
  #it: SourceIterator<T> | undefined = undefined;
  #buffer: T[] = [];
  #ready: T[][] = [];
  #waiters: Waiter<T[]>[] = [];
  #pulling = false;
  #failed = false;
  #error: unknown = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(source: OperatorSource<T>, size: number, maxWait: number | undefined, signal: AbortSignal | undefined) {
    super();
    this.#source = source;
    this.#size = size;
    this.#maxWait = maxWait;
    this.#signal = signal;
  }

  protected step(): Promise<IteratorResult<T[], undefined>> {
    return this.next();
  }

  override next(): Promise<IteratorResult<T[], undefined>> {
    if (this.#ready.length > 0) return Promise.resolve({ value: this.#ready.shift()!, done: false });
    if (this.#failed) {
      const error = this.#error;
      this.#failed = false;
      this.#error = undefined;
      return Promise.reject(error);
    }
    if (this.state === CLOSED) return Promise.resolve(DONE);
    if (this.state === NEW) {
      if (this.#signal?.aborted) {
        this.state = CLOSED;
        return closeUnopened([this.#source]).then(() => DONE);
      }
      this.state = OPEN;
      try {
        this.#it = openSource(this.#source);
      } catch (error) {
        this.state = CLOSED;
        return Promise.reject(error);
      }
      this.watch(this.#signal);
    }
    const promise = new Promise<IteratorResult<T[], undefined>>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
    this.#pump();
    return promise;
  }

  /** Reads the source while a consumer waits and no batch is ready. */
  #pump(): void {
    while (!this.#pulling && this.#waiters.length > 0 && this.state === OPEN) {
      let result: PromiseLike<IteratorResult<T>> | IteratorResult<T>;
      try {
        result = this.#it!.next();
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (isPromiseLike(result)) {
        this.#pulling = true;
        result.then(this.#onResult, this.#onError);
        return;
      }
      this.#take(result);
    }
  }

  #onResult = (result: IteratorResult<T>): void => {
    this.#pulling = false;
    if (this.state !== OPEN) return;
    this.#take(result);
    this.#pump();
  };

  #onError = (error: unknown): void => {
    this.#pulling = false;
    if (this.state !== OPEN) return;
    this.#fail(error);
  };

  #take(result: IteratorResult<T>): void {
    if (result.done) {
      this.#it = undefined;
      if (this.#buffer.length > 0) this.#flush();
      this.#finish();
      return;
    }
    const buffer = this.#buffer;
    buffer.push(result.value);
    if (buffer.length >= this.#size) this.#flush();
    else if (buffer.length === 1 && this.#maxWait !== undefined) {
      this.#timer = setTimeout(this.#onTimer, this.#maxWait);
    }
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    if (this.state !== OPEN || this.#buffer.length === 0) return;
    this.#flush();
    this.#pump();
  };

  #flush(): void {
    this.#clearTimer();
    const values = this.#buffer;
    this.#buffer = [];
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value: values, done: false });
    else this.#ready.push(values);
  }

  #fail(error: unknown): void {
    this.#it = undefined;
    this.#buffer = [];
    const waiter = this.#waiters.shift();
    this.#finish();
    if (waiter !== undefined) waiter.reject(error);
    else {
      this.#failed = true;
      this.#error = error;
    }
  }

  /** The source is done or failed: no more pulls, no timer. */
  #finish(): void {
    this.state = CLOSED;
    this.unwatch();
    this.#clearTimer();
    if (this.#ready.length === 0) this.#settleWaiters();
  }

  #settleWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve(DONE);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  override return(value?: unknown): Promise<IteratorResult<T[], undefined>> {
    this.#ready = [];
    this.#buffer = [];
    this.#failed = false;
    this.#error = undefined;
    this.#clearTimer();
    this.#settleWaiters();
    return super.return(value);
  }

  protected override unopened(): readonly OperatorSource<unknown>[] {
    return [this.#source];
  }

  protected close(_pending: boolean): Promise<void> {
    const it = this.#it;
    this.#it = undefined;
    return it === undefined ? Promise.resolve() : closeSource(it, this.#pulling);
  }
}
