/** Test sources that record what happened to them. */

import { Subscription } from "../../mod.ts";

/** What happened to a tracked source. */
export interface SourceLog {
  /** `[Symbol.asyncIterator]()` calls. */
  opened: number;
  /** `next()` calls that reached the generator body. */
  started: boolean;
  /** The generator's `finally` ran. */
  finalized: boolean;
  /** `return()` was called on the iterator. */
  returned: number;
}

export interface TrackedOptions {
  /** Throw `error` instead of yielding the value at this index. */
  failAt?: number;
  error?: unknown;
  /** After the values, keep yielding `filler` (with a macrotask between values) forever. */
  forever?: boolean;
  filler?: unknown;
  /** Await a macrotask before each value. */
  slow?: boolean;
}

/** An async iterable over `values` whose generator records its lifecycle. */
export function tracked<T>(values: readonly T[], options: TrackedOptions = {}): AsyncIterable<T> & { log: SourceLog } {
  const log: SourceLog = { opened: 0, started: false, finalized: false, returned: 0 };
  async function* generate(): AsyncGenerator<T> {
    log.started = true;
    try {
      for (let i = 0;; i++) {
        if (options.slow) await macrotask();
        if (options.failAt === i) throw options.error;
        if (i < values.length) yield values[i];
        else if (options.forever) {
          await macrotask();
          yield (options.filler ?? i) as T;
        } else return;
      }
    } finally {
      log.finalized = true;
    }
  }
  return {
    log,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      log.opened++;
      const it = generate();
      return {
        next: () => it.next(),
        return: (value?: unknown) => {
          log.returned++;
          return it.return(value as T);
        },
      };
    },
  };
}

/** A subscription driven by the test, counting cleanups. */
export function manual<T>(): {
  sub: Subscription<T>;
  push: (v: T) => boolean;
  stop: (e?: unknown) => void;
  cleanups: () => number;
} {
  let push!: (value: T) => boolean;
  let stop!: (error?: unknown) => void;
  let cleanups = 0;
  const sub = new Subscription<T>((p, s) => {
    push = p;
    stop = s;
    return () => void cleanups++;
  });
  return { sub, push: (v) => push(v), stop: (e) => stop(e), cleanups: () => cleanups };
}

/** An async iterator whose `next()` never settles, recording `return()` calls. */
export function stuck<T>(): AsyncIterable<T> & { returned: () => number; nexts: () => number } {
  let returned = 0;
  let nexts = 0;
  return {
    returned: () => returned,
    nexts: () => nexts,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        next: () => {
          nexts++;
          return new Promise<IteratorResult<T>>(() => {});
        },
        return: () => {
          returned++;
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}

/** Reads everything. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** Reads up to `n` values, then breaks. */
export async function takeThenBreak<T>(iterable: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const value of iterable) {
    out.push(value);
    if (out.length >= n) break;
  }
  return out;
}

/** Resolves after a macrotask. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Races `promise` against a bounded timeout; rejects if it does not settle in time. */
export async function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a promise is still pending after a macrotask. */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await macrotask();
  return !settled;
}

/** An async identity, to make callbacks async. */
export async function later<T>(value: T): Promise<T> {
  await Promise.resolve();
  return value;
}
