/**
 * The subscription: an async iterator over a bounded ring buffer, exposed as a
 * `Repeater` subclass so it composes with everything that takes one.
 *
 * Buffering and overflow, precisely:
 * - Each pushed value is handed straight to the oldest pending `next()` if
 *   there is one; otherwise it is stored in a ring buffer of at most
 *   `bufferSize` values (storage grows on demand up to that size).
 * - When the buffer is full, `overflow` decides: `"error"` (the default) ends
 *   the subscription: it detaches from its source, keeps the values already
 *   buffered for the consumer, then rejects the next `next()` with
 *   {@linkcode SubscriptionOverflowError}; `"drop-oldest"` discards the oldest
 *   buffered value; `"drop-newest"` discards the value being pushed. Dropped
 *   values are counted in {@linkcode Subscription.dropped}.
 * - A push never throws and never waits, so one slow subscriber cannot slow or
 *   break delivery to others.
 * - `return()`, `throw()`, abort of `signal`, and overflow under `"error"` run
 *   the cleanup returned by the setup function exactly once, at once.
 *
 * Unlike a plain `Repeater`, the setup function runs eagerly in the
 * constructor, so events published between `subscribe()` and the first
 * `next()` are kept.
 *
 * @module
 */

import { Repeater } from "@repeaterjs/repeater";
import { SubscriptionOverflowError } from "./errors.ts";

/**
 * What a subscription does when its buffer is full.
 *
 * @example
 * ```ts
 * import type { OverflowPolicy } from "@alkdev/pubsub";
 *
 * const policy: OverflowPolicy = "drop-oldest";
 * ```
 */
export type OverflowPolicy = "error" | "drop-oldest" | "drop-newest";

/**
 * Options for a subscription.
 *
 * @example
 * ```ts
 * import type { SubscriptionOptions } from "@alkdev/pubsub";
 *
 * const options: SubscriptionOptions = { bufferSize: 64, overflow: "drop-oldest" };
 * ```
 */
export interface SubscriptionOptions {
  /**
   * The most values held for a consumer that has not asked for them yet; an
   * integer from 1 to 2^24.
   *
   * @default {1024}
   */
  bufferSize?: number;
  /**
   * What happens when the buffer is full.
   *
   * @default {"error"}
   */
  overflow?: OverflowPolicy;
  /** Ends the subscription (gracefully, discarding buffered values) when aborted. */
  signal?: AbortSignal;
}

/**
 * Pushes a value to the subscription. Never throws; returns `false` if the
 * subscription no longer accepts values.
 *
 * @example
 * ```ts
 * import type { SubscriptionPush } from "@alkdev/pubsub";
 *
 * const push: SubscriptionPush<number> = () => true;
 * push(1);
 * ```
 */
export type SubscriptionPush<T> = (value: T) => boolean;

/**
 * Ends the subscription: values already buffered are still delivered, then the
 * iterator finishes, or rejects once with `error` if one is given.
 *
 * @example
 * ```ts
 * import type { SubscriptionStop } from "@alkdev/pubsub";
 *
 * const stop: SubscriptionStop = () => {};
 * stop(new Error("Source failed"));
 * ```
 */
export type SubscriptionStop = (error?: unknown) => void;

/**
 * Connects a subscription to its source. Runs once, in the constructor; the
 * function it returns (if any) detaches from the source and runs exactly once
 * when the subscription ends for any reason.
 *
 * @example
 * ```ts
 * import type { SubscriptionSetup } from "@alkdev/pubsub";
 *
 * const setup: SubscriptionSetup<number> = (push) => {
 *   const timer = setInterval(() => push(Date.now()), 1000);
 *   return () => clearInterval(timer);
 * };
 * ```
 */
export type SubscriptionSetup<T> = (
  push: SubscriptionPush<T>,
  stop: SubscriptionStop,
) => (() => void) | void;

/**
 * The constructor shape of `Repeater` from `@repeaterjs/repeater`, which
 * {@linkcode Subscription} extends at run time (`sub instanceof Repeater` is
 * true). Declared here so the public types do not depend on the npm package's
 * declarations.
 *
 * @example
 * ```ts
 * import { RepeaterBase, type RepeaterConstructor } from "@alkdev/pubsub";
 *
 * const ctor: RepeaterConstructor = RepeaterBase;
 * ```
 */
export interface RepeaterConstructor {
  /** Constructs a repeater from an executor. */
  new (executor: () => undefined): object;
}

/**
 * `Repeater` from `@repeaterjs/repeater`, typed as {@linkcode RepeaterConstructor}:
 * the run-time base class of {@linkcode Subscription}.
 *
 * @example
 * ```ts
 * import { createPubSub, RepeaterBase } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ ping: number }>();
 * console.log(pubsub.subscribe("ping", "1") instanceof RepeaterBase); // true
 * pubsub.close();
 * ```
 */
export const RepeaterBase: RepeaterConstructor = Repeater as unknown as RepeaterConstructor;
const OPEN = 0;
const ENDING = 1;
const DONE = 2;
const MAX_BUFFER = 2 ** 24;
const DONE_RESULT: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true }) as never;

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/**
 * A bounded, eagerly connected async iterator; a `Repeater` subclass. This is
 * what {@linkcode PubSub.subscribe} returns. See the module docs for the exact
 * buffering and overflow rules.
 *
 * @typeParam T The values it yields.
 *
 * @example A subscription over a timer
 * ```ts
 * import { Subscription } from "@alkdev/pubsub";
 *
 * const ticks = new Subscription<number>((push) => {
 *   let n = 0;
 *   const timer = setInterval(() => push(n++), 1);
 *   return () => clearInterval(timer);
 * }, { bufferSize: 8, overflow: "drop-oldest" });
 * for await (const n of ticks) {
 *   if (n === 3) break; // clears the interval
 * }
 * ```
 */
export class Subscription<T> extends RepeaterBase implements AsyncIterableIterator<T, undefined, unknown> {
  #buffer: (T | undefined)[] = [];
  #head = 0;
  #length = 0;
  readonly #capacity: number;
  readonly #overflow: OverflowPolicy;
  // The first pending next() is held in two fields (the common case), later ones in #waiters.
  #resolve: ((result: IteratorResult<T, undefined>) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #waiters: Waiter<T>[] = [];
  #state = OPEN;
  #error: unknown = undefined;
  #hasError = false;
  #dropped = 0;
  #cleanup: (() => void) | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  /** The topic this subscription listens to, when made by {@linkcode PubSub.subscribe}. */
  readonly topic: string | undefined;

  /**
   * Creates a subscription and runs `setup` at once.
   *
   * @param setup Connects to the source; see {@linkcode SubscriptionSetup}.
   * @param options Buffer size, overflow policy and abort signal.
   * @param topic A name for error messages, such as the topic.
   * @throws {RangeError} If `bufferSize` or `overflow` is invalid.
   */
  constructor(setup: SubscriptionSetup<T>, options: SubscriptionOptions = {}, topic?: string) {
    super(noop);
    this.topic = topic;
    const { bufferSize = 1024, overflow = "error", signal } = options;
    if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > MAX_BUFFER) {
      throw new RangeError(
        `Cannot subscribe: bufferSize must be an integer from 1 to ${MAX_BUFFER}, got ${String(bufferSize)}`,
      );
    }
    if (overflow !== "error" && overflow !== "drop-oldest" && overflow !== "drop-newest") {
      throw new RangeError(
        `Cannot subscribe: overflow must be "error", "drop-oldest" or "drop-newest", got ${JSON.stringify(overflow)}`,
      );
    }
    this.#capacity = bufferSize;
    this.#overflow = overflow;
    if (signal?.aborted) {
      this.#state = DONE;
      return;
    }
    const cleanup = setup(this.#push, this.#stop);
    if (typeof cleanup === "function") this.#cleanup = cleanup;
    if (this.#state !== OPEN) {
      this.#runCleanup();
      return;
    }
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => void this.return();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** How many values the drop policies have discarded so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** How many values are buffered, waiting for `next()`. */
  get buffered(): number {
    return this.#length;
  }

  #push = (value: T): boolean => {
    if (this.#state !== OPEN) return false;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#shiftWaiter();
      resolve({ value, done: false });
      return true;
    }
    const buffer = this.#buffer;
    if (this.#length === buffer.length) {
      if (this.#length < this.#capacity) {
        this.#grow();
      } else if (this.#overflow === "drop-oldest") {
        buffer[this.#head] = value;
        if (++this.#head === buffer.length) this.#head = 0;
        this.#dropped++;
        return true;
      } else if (this.#overflow === "drop-newest") {
        this.#dropped++;
        return false;
      } else {
        this.#stop(new SubscriptionOverflowError(this.#topic(), this.#capacity));
        return false;
      }
    }
    const b = this.#buffer;
    let tail = this.#head + this.#length;
    if (tail >= b.length) tail -= b.length;
    b[tail] = value;
    this.#length++;
    return true;
  };

  #stop = (error?: unknown): void => {
    if (this.#state !== OPEN) return;
    this.#state = ENDING;
    if (error !== undefined) {
      this.#error = error;
      this.#hasError = true;
    }
    this.#runCleanup();
    // Waiters exist only while the buffer is empty: settle them now.
    for (const waiter of this.#takeWaiters()) this.#settleEnded(waiter);
  };

  #shiftWaiter(): void {
    const next = this.#waiters.length > 0 ? this.#waiters.shift() : undefined;
    this.#resolve = next?.resolve;
    this.#reject = next?.reject;
  }

  #takeWaiters(): Waiter<T>[] {
    if (this.#resolve === undefined) return [];
    const waiters = [{ resolve: this.#resolve, reject: this.#reject! }, ...this.#waiters];
    this.#resolve = this.#reject = undefined;
    this.#waiters = [];
    return waiters;
  }

  /** Returns the next value, waiting for one if none is buffered. */
  next(_value?: unknown): Promise<IteratorResult<T, undefined>> {
    if (this.#length > 0) return Promise.resolve({ value: this.#take(), done: false });
    if (this.#state === OPEN) {
      if (this.#resolve === undefined) {
        return new Promise((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      }
      return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
    }
    return new Promise((resolve, reject) => this.#settleEnded({ resolve, reject }));
  }

  /** Ends the subscription at once, discarding buffered values, and detaches from the source. */
  return(_value?: unknown): Promise<IteratorResult<T, undefined>> {
    this.#finish();
    return Promise.resolve(DONE_RESULT);
  }

  /** Returns the subscription itself. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the subscription like `return()`; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#finish();
    return Promise.resolve();
  }

  /** Ends the subscription like `return()`; for `using`. */
  [Symbol.dispose](): void {
    this.#finish();
  }

  /** Ends the subscription like `return()`, then rejects with `error`. */
  throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    this.#finish();
    return Promise.reject(error);
  }

  #finish(): void {
    const wasOpen = this.#state === OPEN;
    this.#state = DONE;
    this.#buffer = [];
    this.#head = 0;
    this.#length = 0;
    this.#error = undefined;
    this.#hasError = false;
    if (wasOpen) this.#runCleanup();
    for (const waiter of this.#takeWaiters()) waiter.resolve(DONE_RESULT);
  }

  #settleEnded(waiter: Waiter<T>): void {
    this.#state = DONE;
    if (this.#hasError) {
      const error = this.#error;
      this.#error = undefined;
      this.#hasError = false;
      waiter.reject(error);
    } else {
      waiter.resolve(DONE_RESULT);
    }
  }

  #take(): T {
    const buffer = this.#buffer;
    const value = buffer[this.#head] as T;
    buffer[this.#head] = undefined;
    if (++this.#head === buffer.length) this.#head = 0;
    this.#length--;
    return value;
  }

  #grow(): void {
    const old = this.#buffer;
    const size = Math.min(this.#capacity, Math.max(16, old.length * 2));
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.#length; i++) next[i] = old[(this.#head + i) % old.length];
    this.#buffer = next;
    this.#head = 0;
  }

  #runCleanup(): void {
    if (this.#signal !== undefined) {
      this.#signal.removeEventListener("abort", this.#onAbort!);
      this.#signal = undefined;
      this.#onAbort = undefined;
    }
    const cleanup = this.#cleanup;
    this.#cleanup = undefined;
    cleanup?.();
  }

  #topic(): string {
    return this.topic ?? "subscription";
  }
}

function noop(): undefined {
  return undefined;
}
