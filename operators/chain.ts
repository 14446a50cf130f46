/**
 * `chain`: one source after another.
 *
 * @module
 */

import {
  CLOSED,
  closeSource,
  describe,
  DONE,
  isSource,
  OPEN,
  openSource,
  type SourceIterator,
  StreamBase,
} from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Yields every value of the source, then of each of `sources` in turn. Each
 * is opened only once the previous one has ended, so a later source is never
 * opened if the stream ends early, and an eager source (a subscription)
 * passed here keeps buffering until its turn: the caller still owns the ones
 * never reached. On early exit the current source is closed (the piped one
 * if the chain never started); an error from any source ends the chain and
 * is rethrown.
 *
 * @typeParam T The values of the piped source.
 * @typeParam U The values of the sources that follow.
 * @param sources The sources to read after the piped one.
 * @returns The operator.
 * @throws {TypeError} If one of `sources` is not iterable.
 *
 * @example
 * ```ts
 * import { chain, pipe, toArray } from "@alkdev/pubsub";
 *
 * async function* later() {
 *   yield "c";
 * }
 * console.log((await pipe(["a"], chain(["b"], later()), toArray()).next()).value); // ["a", "b", "c"]
 * ```
 */
export function chain<T, U = T>(...sources: OperatorSource<U>[]): Operator<T, T | U> {
  sources.forEach((source, i) => {
    if (!isSource(source)) {
      throw new TypeError(`chain: source ${i + 1} must be an async iterable or an iterable, got ${describe(source)}`);
    }
  });
  return (source: OperatorSource<T>): OperatorStream<T | U> =>
    new ChainStream<T | U>([source, ...sources] as OperatorSource<T | U>[]);
}

class ChainStream<T> extends StreamBase<T> {
  readonly #sources: OperatorSource<T>[];
  #index = 0;
  #it: SourceIterator<T> | undefined = undefined;

  constructor(sources: OperatorSource<T>[]) {
    super();
    this.#sources = sources;
  }

  protected async step(): Promise<IteratorResult<T, undefined>> {
    try {
      this.state = OPEN;
      for (;;) {
        let it = this.#it;
        if (it === undefined) {
          if (this.#index >= this.#sources.length) {
            this.state = CLOSED;
            return DONE;
          }
          const source = this.#sources[this.#index];
          this.#sources[this.#index++] = undefined as never; // not kept once read
          it = this.#it = openSource(source);
        }
        const result = await it.next();
        if (this.state === CLOSED) return DONE;
        if (!result.done) return { value: result.value, done: false };
        this.#it = undefined;
      }
    } catch (error) {
      if (this.returned) return DONE;
      this.state = CLOSED;
      this.#it = undefined;
      this.#sources.length = 0;
      throw error;
    } finally {
      this.unlock();
    }
  }

  protected override unopened(): readonly OperatorSource<unknown>[] {
    // The piped source is the current one; the caller still owns those never reached.
    const first = this.#sources[0];
    this.#sources.length = 0;
    return first === undefined ? [] : [first];
  }

  protected close(pending: boolean): Promise<void> {
    const it = this.#it;
    this.#it = undefined;
    this.#sources.length = 0;
    return it === undefined ? Promise.resolve() : closeSource(it, pending);
  }
}
