/**
 * Shared machinery for the operators. Not exported from the package.
 *
 * Every operator returns a subclass of {@linkcode StreamBase}: a hand-written
 * async iterator (much cheaper per value than an async generator) that
 * - opens nothing until the first `next()`;
 * - serialises concurrent `next()` calls, so results come back in call order;
 * - on `return()`/`throw()`, closes every source iterator it opened, and
 *   never waits on a source whose `next()` has not settled yet (it calls that
 *   source's `return()` without awaiting it).
 *
 * @module
 */

import type { OperatorSource, OperatorStream } from "./types.ts";

/** The shared "done" result. Frozen: callers cannot change it. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true }) as never;
const RESOLVED_DONE: Promise<IteratorReturnResult<undefined>> = Promise.resolve(DONE);
const RESOLVED: Promise<void> = Promise.resolve();

/** The stream has not opened its sources yet. */
export const NEW = 0;
/** The stream has opened its sources. */
export const OPEN = 1;
/** The stream has finished: done, failed, or closed by the consumer. */
export const CLOSED = 2;

/** An opened source: an async iterator, or a sync iterator whose results are used as they are. */
export interface SourceIterator<T> {
  next(): PromiseLike<IteratorResult<T>> | IteratorResult<T>;
  return?(value?: unknown): PromiseLike<IteratorResult<T>> | IteratorResult<T>;
}

/** A deferred `next()` result. */
export interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/** Whether `value` is a thenable (a callback result to await). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

/** Whether `value` can be read by an operator. */
export function isSource(value: unknown): value is OperatorSource<unknown> {
  if (value === null || value === undefined) return false;
  const v = value as Record<symbol, unknown>;
  return typeof v[Symbol.asyncIterator] === "function" || typeof v[Symbol.iterator] === "function";
}

/** Opens a source: its async iterator if it has one, else its sync iterator. */
export function openSource<T>(source: OperatorSource<T>): SourceIterator<T> {
  const asyncFactory = (source as AsyncIterable<T>)[Symbol.asyncIterator];
  if (typeof asyncFactory === "function") return asyncFactory.call(source) as SourceIterator<T>;
  const syncFactory = (source as Iterable<T>)[Symbol.iterator];
  if (typeof syncFactory === "function") return syncFactory.call(source) as SourceIterator<T>;
  throw new TypeError(`Expected an async iterable or an iterable, got ${describe(source)}`);
}

/**
 * Closes an opened source. When a `next()` on it is still pending, `return()`
 * is called but not awaited (an async generator would queue it behind the
 * pending `next()`, possibly forever); its rejection is ignored then.
 */
export function closeSource(iterator: SourceIterator<unknown>, pending: boolean): Promise<void> {
  if (typeof iterator.return !== "function") return RESOLVED;
  if (pending) {
    try {
      const result = iterator.return();
      if (isPromiseLike(result)) result.then(undefined, noop);
    } catch {
      // A source that cannot close while busy: nothing more can be done.
    }
    return RESOLVED;
  }
  try {
    const result = iterator.return();
    return isPromiseLike(result) ? Promise.resolve(result).then(noop) : RESOLVED;
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Closes several sources; the first `return()` error (if any) rejects, after all have been closed. */
export async function closeSources(iterators: SourceIterator<unknown>[], pending: boolean[]): Promise<void> {
  const results = await Promise.allSettled(iterators.map((it, i) => closeSource(it, pending[i])));
  for (const result of results) if (result.status === "rejected") throw result.reason;
}

/** A short description of a value for error messages. */
/**
 * Closes sources a stream never opened (it ended before its first `next()`):
 * opens each and calls its `return()`, as TC39 iterator helpers close the
 * underlying iterator of a helper that never started. A subscription, which
 * is its own iterator, is thereby closed; an array has nothing to close.
 * Rejects with the first error, after trying them all.
 */
export function closeUnopened(sources: readonly OperatorSource<unknown>[]): Promise<void> {
  if (sources.length === 0) return RESOLVED;
  const iterators: SourceIterator<unknown>[] = [];
  let failure: { error: unknown } | undefined;
  for (const source of sources) {
    try {
      iterators.push(openSource(source));
    } catch (error) {
      failure ??= { error };
    }
  }
  const closing = closeSources(iterators, iterators.map(() => false));
  return failure === undefined ? closing : closing.then(() => Promise.reject(failure.error));
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** Throws a `TypeError` unless `fn` is a function. */
export function assertFunction(fn: unknown, op: string, what = "callback"): void {
  if (typeof fn !== "function") throw new TypeError(`${op}: the ${what} must be a function, got ${describe(fn)}`);
}

/** Throws a `RangeError` unless `n` is an integer in [min, ∞), or Infinity when allowed. */
export function assertCount(n: unknown, op: string, what: string, min: number, allowInfinity: boolean): void {
  if (typeof n === "number" && ((Number.isInteger(n) && n >= min) || (allowInfinity && n === Infinity))) return;
  const range = allowInfinity ? `an integer from ${min} up, or Infinity` : `an integer from ${min} up`;
  throw new RangeError(`${op}: ${what} must be ${range}, got ${describe(n)}`);
}

/** Does nothing. */
export function noop(): void {}

/**
 * The base of every stream an operator returns. Subclasses implement
 * `step()` (which must call `unlock()` when it settles) and `close()`.
 */
export abstract class StreamBase<T> implements OperatorStream<T> {
  /** {@linkcode NEW}, {@linkcode OPEN} or {@linkcode CLOSED}. */
  state: number = NEW;
  /** A `step()` is running. */
  busy = false;
  /** The consumer ended the stream (`return()`, `throw()`, abort); a step still running then settles as done. */
  returned = false;
  #queued: Waiter<T>[] | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  #onAbort: (() => void) | undefined = undefined;

  /** Produces the next result. Called with `busy` set; must call `unlock()` when it settles. */
  protected abstract step(): Promise<IteratorResult<T, undefined>>;

  /**
   * Closes every source this stream opened. `pending` tells whether a step
   * is running (so a source `next()` may be pending). Called once, after
   * `state` became CLOSED, and only if the stream had opened.
   */
  protected abstract close(pending: boolean): Promise<void>;

  /**
   * The sources to close if the stream ends before its first `next()`; it
   * forgets them. None by default.
   */
  protected unopened(): readonly OperatorSource<unknown>[] {
    return [];
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.busy) {
      return new Promise((resolve, reject) => (this.#queued ??= []).push({ resolve, reject }));
    }
    if (this.state === CLOSED) return RESOLVED_DONE;
    this.busy = true;
    return this.step();
  }

  /** Ends a step: clears `busy` and starts the next queued `next()`, if any. */
  protected unlock(): void {
    this.busy = false;
    const queued = this.#queued;
    if (queued !== undefined && queued.length > 0) {
      const waiter = queued.shift()!;
      this.next().then(waiter.resolve, waiter.reject);
    }
  }

  /** Ends the stream like `return()` when `signal` aborts; call when opening. */
  protected watch(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    this.#signal = signal;
    this.#onAbort = () => void this.return().catch(noop);
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Removes the abort listener, if any; call whenever the stream finishes. */
  protected unwatch(): void {
    if (this.#onAbort !== undefined) {
      this.#signal!.removeEventListener("abort", this.#onAbort);
      this.#signal = undefined;
      this.#onAbort = undefined;
    }
  }

  return(_value?: unknown): Promise<IteratorResult<T, undefined>> {
    const state = this.state;
    this.state = CLOSED;
    if (state !== CLOSED) this.returned = true;
    this.unwatch();
    const queued = this.#queued;
    if (queued !== undefined) {
      this.#queued = undefined;
      for (const waiter of queued) waiter.resolve(DONE);
    }
    if (state === NEW) return closeUnopened(this.unopened()).then(() => DONE);
    if (state !== OPEN) return RESOLVED_DONE;
    return this.close(this.busy).then(() => DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    return this.return().then(() => Promise.reject(error));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.return().then(noop);
  }
}

/** A stream over one source. */
export abstract class OneSourceStream<S, T> extends StreamBase<T> {
  /** The opened source, while it is open. */
  it: SourceIterator<S> | undefined = undefined;
  /** The source. */
  readonly source: OperatorSource<S>;

  constructor(source: OperatorSource<S>) {
    super();
    this.source = source;
  }

  protected override unopened(): readonly OperatorSource<unknown>[] {
    return [this.source];
  }

  /** Opens the source (state becomes OPEN; if opening throws, the caller ends the stream with `end()`). */
  open(): SourceIterator<S> {
    this.state = OPEN;
    return (this.it = openSource(this.source));
  }

  /** The source ended or failed: forget it (an iterator that finished needs no `return()`). */
  end(): IteratorReturnResult<undefined> {
    this.state = CLOSED;
    this.unwatch();
    this.it = undefined;
    return DONE;
  }

  /** A callback failed, or the stream finished early: close the source; its `return()` errors are ignored. */
  async fail(error: unknown): Promise<never> {
    this.state = CLOSED;
    this.unwatch();
    const it = this.it;
    this.it = undefined;
    if (it !== undefined) await closeSource(it, false).catch(noop);
    throw error;
  }

  protected close(pending: boolean): Promise<void> {
    const it = this.it;
    this.it = undefined;
    return it === undefined ? RESOLVED : closeSource(it, pending);
  }
}

/** A promise with its settle functions. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Marks an operator made by `filter` or `map`, so `pipe` can fuse runs of them into one stream. */
export const FUSE: unique symbol = Symbol("fuse");

/** One fused step: a filter predicate or a map function. */
export interface FusedStep {
  readonly filter: boolean;
  readonly fn: (value: unknown, index: number) => unknown;
}

/** An operator function carrying its fused step. */
export type FusibleOperator = ((source: OperatorSource<unknown>) => OperatorStream<unknown>) & { [FUSE]: FusedStep };

/** What a composed run of steps returns for a value it drops. */
const SKIP: unique symbol = Symbol("skip");

/** What a composed run of steps returns when a callback returned a promise. */
class Pending {
  readonly promise: Promise<unknown>;
  constructor(promise: Promise<unknown>) {
    this.promise = promise;
  }
}

type Run = (value: unknown) => unknown;

function settle(out: unknown): unknown {
  return out instanceof Pending ? out.promise : out;
}

/**
 * Composes steps into one function: value in, value (or {@linkcode SKIP}, or
 * a {@linkcode Pending} when a callback was async) out. Each step counts its
 * own index. A {@linkcode Pending} is made only on the async path, so a value
 * that is itself a promise passes a filter untouched.
 */
function compose(steps: readonly FusedStep[]): Run {
  let run: Run | undefined;
  for (let i = steps.length - 1; i >= 0; i--) {
    const { filter, fn } = steps[i];
    const after = run;
    let index = 0;
    if (filter) {
      run = after === undefined
        ? (value) => {
          const keep = fn(value, index++);
          if (isPromiseLike(keep)) return new Pending(Promise.resolve(keep).then((k) => k ? value : SKIP));
          return keep ? value : SKIP;
        }
        : (value) => {
          const keep = fn(value, index++);
          if (isPromiseLike(keep)) {
            return new Pending(Promise.resolve(keep).then((k) => k ? settle(after(value)) : SKIP));
          }
          return keep ? after(value) : SKIP;
        };
    } else {
      run = after === undefined
        ? (value) => {
          const out = fn(value, index++);
          return isPromiseLike(out) ? new Pending(Promise.resolve(out)) : out;
        }
        : (value) => {
          const out = fn(value, index++);
          return isPromiseLike(out) ? new Pending(Promise.resolve(out).then((o) => settle(after(o)))) : after(out);
        };
    }
  }
  return run ?? ((value) => value);
}

/**
 * `filter` and `map` (and any run of them in a `pipe`) in one stream: one
 * `next()` on the source per value and no intermediate promises, except for
 * callbacks that return one. Each step keeps its own index.
 */
export class FusedStream<T> extends OneSourceStream<unknown, T> {
  readonly #run: Run;

  constructor(source: OperatorSource<unknown>, steps: readonly FusedStep[]) {
    super(source);
    this.#run = compose(steps);
  }

  protected async step(): Promise<IteratorResult<T, undefined>> {
    let inCallback = false;
    try {
      const it = this.it ?? this.open();
      const run = this.#run;
      for (;;) {
        inCallback = false;
        const result = await it.next();
        if (this.state === CLOSED) return DONE;
        if (result.done) return this.end();
        inCallback = true;
        let value = run(result.value);
        if (value instanceof Pending) {
          value = await value.promise;
          if (this.state === CLOSED) return DONE;
        }
        if (value !== SKIP) return { value: value as T, done: false };
      }
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
